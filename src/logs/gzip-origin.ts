// Gzip files that remember which plain file they were made from. A compressed rotation gets a new
// inode, so a reader holding the plain file's fd could no longer find its place in the chain by
// inode; the .gz therefore carries the plain file's inode in its header comment (RFC 1952 FCOMMENT,
// which gunzip, zcat and zlib skip). Owns that header and decompressing a held .gz; never renames.

import fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

const HEADER = 10; // magic(2) CM FLG MTIME(4) XFL OS: what zlib writes, with FLG 0
const FCOMMENT = 0x10;
const COMMENT = 'tend origin-ino ';

/**
 * Rewrites the header of zlib's gzip output to carry `ino`. The header is outside the CRC (which
 * covers the uncompressed data only), so the file stays a valid single-member gzip.
 */
export function withOrigin(ino: number): Transform {
  let head = Buffer.alloc(0);
  let isDone = false;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      if (isDone) return callback(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < HEADER) return callback();
      isDone = true;
      const fixed = Buffer.from(head.subarray(0, HEADER));
      // zlib never sets a flag itself; if it ever did, leave its header alone (readers then just
      // cannot match this file by origin).
      if (fixed[3] !== 0) return callback(null, head);
      fixed[3] = FCOMMENT;
      callback(null, Buffer.concat([fixed, Buffer.from(`${COMMENT}${ino}\0`, 'latin1'), head.subarray(HEADER)]));
    },
  });
}

/** The plain file's inode a .gz was made from (see withOrigin), or null when it carries none. */
export function readGzipOrigin(fd: number): number | null {
  const head = Buffer.alloc(HEADER + COMMENT.length + 24);
  const got = fs.readSync(fd, head, 0, head.length, 0);
  if (got < HEADER || head[0] !== 0x1f || head[1] !== 0x8b || head[3] !== FCOMMENT) return null;
  const end = head.indexOf(0, HEADER);
  if (end < 0 || end >= got) return null;
  const comment = head.toString('latin1', HEADER, end);
  if (!comment.startsWith(COMMENT)) return null;
  const ino = Number(comment.slice(COMMENT.length));
  return Number.isSafeInteger(ino) && ino > 0 ? ino : null;
}

/**
 * The whole uncompressed content of a held .gz, in memory (read-back and a follower that fell
 * behind only; rotated files are at most max_size). Throws on a damaged file.
 */
export function gunzipFd(fd: number): Buffer {
  const size = fs.fstatSync(fd).size;
  const packed = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const got = fs.readSync(fd, packed, done, size - done, done);
    if (got === 0) break;
    done += got;
  }
  return zlib.gunzipSync(packed.subarray(0, done));
}
