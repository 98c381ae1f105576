// The chain of one log file and its rotated copies (file, file.1 … file.keep, newest first; each
// copy plain or .gz, see chain-names.ts) as file-sink.ts shifts it and compressor.ts compresses
// it. Owns finding files in it by identity (inode) while the writer may shift names under us; it
// only opens files for reading — never renames, writes or deletes.

import fs from 'node:fs';
import { gzName, plainName } from './chain-names.js';
import { readGzipOrigin } from './gzip-origin.js';
import { openLogForReading } from './log-files.js';

/** Where a reader stopped: the file by inode (0 = there was no file) and a byte offset in it. */
export interface FilePosition {
  readonly ino: number;
  readonly offset: number;
}

export interface OpenFile {
  readonly fd: number;
  readonly ino: number;
  /** Size when opened (of the gzip bytes, for a compressed file). */
  readonly size: number;
  /** A .gz: its lines are read from gzip-origin.ts's gunzipFd, offsets count uncompressed bytes. */
  readonly isCompressed: boolean;
}

/** Opens for reading; null when the file is not there. Identity comes from the fd, not the name. */
export function tryOpen(file: string, isCompressed = false): OpenFile | null {
  const fd = openLogForReading(file); // a link or another user's file is refused, never read
  if (fd === null) return null;
  try {
    const stat = fs.fstatSync(fd);
    return { fd, ino: stat.ino, size: stat.size, isCompressed };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** The inode now behind a name; 0 when there is none. */
export function inoAt(file: string): number {
  try {
    return fs.statSync(file).ino;
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
}

/** An open file of the chain and the name index it was last seen at (a hint: names move up). */
export interface ChainFile extends OpenFile {
  readonly index: number;
}

/**
 * The file at `index`, plain name first: while a compression publishes, file.N and file.N.gz both
 * exist with the same lines, and the plain one is the one a follower may hold by inode.
 */
function openAt(file: string, index: number): ChainFile | null {
  const opened = tryOpen(plainName(file, index)) ?? (index > 0 ? tryOpen(gzName(file, index), true) : null);
  return opened === null ? null : { ...opened, index };
}

/** The newest file of the chain: the current one, or (mid-rotation, removed) the newest rotated. */
export function openNewest(file: string, keep: number): ChainFile | null {
  for (let index = 0; index <= keep; index++) {
    const opened = openAt(file, index);
    if (opened !== null) return opened;
  }
  return null;
}

/** Where a file is now: its index, and the name and inode that stand for it there. */
interface Place {
  readonly index: number;
  readonly name: string;
  readonly ino: number;
  readonly isCompressed: boolean;
}

/**
 * Finds `held` (kept open by the caller, so its inode number cannot be reused meanwhile) from
 * index `from` up. A plain file compressed since it was opened is found through its .gz's origin
 * (gzip-origin.ts): an older .gz may carry the same number from before it was reused, but it sits
 * at a higher index, so the lowest match is ours.
 */
function locate(file: string, from: number, keep: number, held: Pick<OpenFile, 'ino' | 'isCompressed'>): Place | null {
  const nameAt = held.isCompressed ? gzName : plainName;
  for (let index = from; index <= keep; index++) {
    const name = nameAt(file, index);
    if (inoAt(name) === held.ino) return { index, name, ino: held.ino, isCompressed: held.isCompressed };
  }
  if (held.isCompressed) return null;
  for (let index = Math.max(from, 1); index <= keep; index++) {
    const gz = tryOpen(gzName(file, index), true);
    if (gz === null) continue;
    try {
      if (readGzipOrigin(gz.fd) === held.ino) return { index, name: gzName(file, index), ino: gz.ino, isCompressed: true };
    } finally {
      fs.closeSync(gz.fd);
    }
  }
  return null;
}

/** True while `place` still names the same file: no rename into it happened since it was found. */
const isStill = (place: Place): boolean => inoAt(place.name) === place.ino;

/**
 * The file written right before `of` (which the caller keeps open), or null at the chain's end.
 * Found by identity, not by name: names shift while we read (newer files move in behind us), so
 * a name alone could repeat a file or give a newer one.
 */
export function openPredecessor(file: string, keep: number, of: ChainFile): ChainFile | null {
  for (let attempt = 0; attempt < 8; attempt++) {
    const place = locate(file, of.index, keep, of);
    if (place === null || place.index >= keep) return null;
    let older = openAt(file, place.index + 1);
    // Mid-shift (oldest renamed first): index+1 has moved up to index+2, ours not yet into index+1.
    if (older === null && place.index + 2 <= keep) older = openAt(file, place.index + 2);
    // Still there after the open: no rename into it happened in between, so the two were
    // neighbours at one instant — the predecessor (or, if none, the chain's end).
    if (isStill(place)) return older;
    if (older !== null) fs.closeSync(older.fd);
  }
  return null;
}

/** The file with this inode wherever it now is in the chain (maybe compressed), or null when it left. */
export function openByIno(file: string, keep: number, ino: number): OpenFile | null {
  // Walking up while rotations move the file up too still meets it: it moves one step per
  // rotation, the walk one step per name. Found, it may move on before the open: look again.
  for (let attempt = 0; attempt < 8; attempt++) {
    const place = locate(file, 0, keep, { ino, isCompressed: false });
    if (place === null) return null;
    const opened = tryOpen(place.name, place.isCompressed);
    if (opened !== null && opened.ino === place.ino) return opened;
    if (opened !== null) fs.closeSync(opened.fd);
  }
  return null;
}

/**
 * The file written right after `held` (rotated already, and kept open by the caller so that its
 * inode number cannot be reused while we look): 'lost' when it fell off the end of the chain,
 * 'busy' when the writer is mid-shift (try again on the next wake-up).
 */
export function openSuccessor(file: string, keep: number, held: OpenFile): OpenFile | 'lost' | 'busy' {
  for (let attempt = 0; attempt < 8; attempt++) {
    const place = locate(file, 1, keep, held);
    if (place === null) return 'lost';
    const next = openAt(file, place.index - 1);
    // The shift renames oldest first, so index-1 is briefly vacant after it moved up.
    if (next === null) return 'busy';
    // Still there after opening index-1: what we opened was its neighbour at one instant.
    if (isStill(place)) return next;
    fs.closeSync(next.fd);
  }
  return 'busy';
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
