// How tend opens every file it writes, or reads back, in a directory: never through a symlink
// (O_NOFOLLOW on the last component — the directories above are checked by safe-dir.ts), and
// only a plain file of this user's with a single name (a hard link planted to another file
// would pass O_NOFOLLOW). Ownership is checked on the open descriptor, before a byte is
// written or truncated, so what is checked is what is used. Errors keep their errno `code`;
// a file that fails the check is refused with code EUNSAFE.
import fs from 'node:fs';

/**
 * append: create (mode) or extend; truncate: create or empty it — after the check;
 * create-new: must not exist yet (O_EXCL); read: an existing file (O_NONBLOCK, so a FIFO planted
 * in its place cannot hang the open).
 */
export type OpenHow = 'append' | 'truncate' | 'create-new' | 'read';

const { O_WRONLY, O_RDONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const FLAGS: Record<OpenHow, number> = {
  append: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW,
  truncate: O_WRONLY | O_CREAT | O_NOFOLLOW,
  'create-new': O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
  read: O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
};

export function openOwnFile(file: string, how: OpenHow, mode = 0o600): number {
  let fd: number;
  try {
    fd = fs.openSync(file, FLAGS[how], mode);
  } catch (error) {
    // ELOOP from O_NOFOLLOW: the name is a symlink.
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw unsafe(`${file} is a symbolic link`);
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    const uid = process.geteuid?.();
    if (!stat.isFile()) throw unsafe(`${file} is not a regular file`);
    if (uid !== undefined && stat.uid !== uid) throw unsafe(`${file} belongs to uid ${stat.uid}, not to uid ${uid}`);
    if (stat.nlink > 1) throw unsafe(`${file} has ${stat.nlink} hard links`);
    if (how === 'truncate') fs.ftruncateSync(fd, 0);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function unsafe(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${message}: refused`);
  error.code = 'EUNSAFE';
  return error;
}
