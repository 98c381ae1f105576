// Whether a directory is safe to create files in when tend may run as root beside other users:
// the directory itself belongs to this user and nobody else can write it, and no directory on
// the way to it can be changed by anyone but root or this user (a writable parent would let
// another user rename it away and put their own in its place, or a symlink that leads
// elsewhere). World-writable parents with the sticky bit (/tmp) are fine: there nobody can
// rename what is not theirs. Symlinks on the way are followed only when they belong to root or
// this user, and their targets are checked the same way. Answers with a reason, never throws.
import fs from 'node:fs';
import path from 'node:path';

const STICKY = 0o1000;
const MAX_LINKS = 16;

/** Why a directory will not do: another user could change it (unsafe), or it is no directory at all (unusable). */
export interface DirProblem {
  readonly kind: 'unsafe' | 'unusable';
  /** One phrase: "/x belongs to uid 1000". */
  readonly reason: string;
}

/**
 * null when safe. With `ifMissing`, a directory that does not exist yet is judged by what exists
 * above it (tend would create the rest, as its own).
 */
export function dirProblem(
  dir: string,
  { ifMissing = false, uid = process.geteuid?.() }: { ifMissing?: boolean; uid?: number | undefined } = {},
): DirProblem | null {
  if (uid === undefined) return null; // no uids on this platform: nothing to compare
  return checkChain(path.resolve(dir), uid, 0, true, ifMissing);
}

const unsafe = (reason: string): DirProblem => ({ kind: 'unsafe', reason });
const unusable = (reason: string): DirProblem => ({ kind: 'unusable', reason });

function checkChain(target: string, uid: number, depth: number, isFinal: boolean, ifMissing: boolean): DirProblem | null {
  if (depth > MAX_LINKS) return unusable(`${target} has too many symbolic links on the way`);
  const parts = target.split(path.sep).filter(Boolean);
  let at: string = path.sep;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) at = path.join(at, parts[i - 1] ?? '');
    const last = i === parts.length;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && ifMissing) return null;
      return unusable(`${at} cannot be checked (${code ?? 'error'})`);
    }
    if (stat.isSymbolicLink()) {
      if (stat.uid !== 0 && stat.uid !== uid) return unsafe(`${at} is a symbolic link of uid ${stat.uid}`);
      const resolved = path.resolve(path.dirname(at), fs.readlinkSync(at), ...parts.slice(i));
      return checkChain(resolved, uid, depth + 1, isFinal, ifMissing);
    }
    if (!stat.isDirectory()) return unusable(`${at} is not a directory`);
    if (last && isFinal) {
      if (stat.uid !== uid) return unsafe(`${at} belongs to uid ${stat.uid}, not to uid ${uid}`);
      if ((stat.mode & 0o022) !== 0)
        return unsafe(
          `${at} can be written by ${(stat.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(stat.mode & 0o7777).toString(8)})`,
        );
    } else {
      if (stat.uid !== 0 && stat.uid !== uid) return unsafe(`${at} belongs to uid ${stat.uid}`);
      if ((stat.mode & 0o022) !== 0 && (stat.mode & STICKY) === 0)
        return unsafe(`${at} can be written by other users (mode ${(stat.mode & 0o7777).toString(8)})`);
    }
  }
  return null;
}
