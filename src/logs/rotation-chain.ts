// The chain of one log file and its rotated copies (file, file.1 … file.keep, newest first) as
// file-sink.ts shifts it. Owns finding files in it by identity (inode) while the writer may
// shift names under us; it only opens files for reading — never renames, writes or deletes.

import fs from 'node:fs';

/** Where a reader stopped: the file by inode (0 = there was no file) and a byte offset in it. */
export interface FilePosition {
  readonly ino: number;
  readonly offset: number;
}

export interface OpenFile {
  readonly fd: number;
  readonly ino: number;
  /** Size when opened. */
  readonly size: number;
}

const chainPath = (file: string, index: number): string => (index === 0 ? file : `${file}.${index}`);

/** Opens for reading; null when the file is not there. Identity comes from the fd, not the name. */
export function tryOpen(file: string): OpenFile | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    return { fd, ino: stat.ino, size: stat.size };
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

/** The newest file of the chain: the current one, or (mid-rotation, removed) the newest rotated. */
export function openNewest(file: string, keep: number): ChainFile | null {
  for (let index = 0; index <= keep; index++) {
    const opened = tryOpen(chainPath(file, index));
    if (opened !== null) return { ...opened, index };
  }
  return null;
}

/**
 * The file written right before `of` (which the caller keeps open, so its inode number cannot be
 * reused meanwhile), or null at the chain's end. Found by inode, not by name: names shift while
 * we read (newer files move in behind us), so a name alone could repeat a file or give a newer one.
 */
export function openPredecessor(file: string, keep: number, of: ChainFile): ChainFile | null {
  for (let attempt = 0; attempt < 8; attempt++) {
    const index = indexOf(file, of.index, keep, of.ino);
    if (index < 0 || index >= keep) return null;
    let olderIndex = index + 1;
    let older = tryOpen(chainPath(file, olderIndex));
    // Mid-shift (oldest renamed first): index+1 has moved up to index+2, ours not yet into index+1.
    if (older === null && index + 2 <= keep) older = tryOpen(chainPath(file, (olderIndex = index + 2)));
    // Still at `index` after the open: no rename into `index` happened in between, so the two
    // were neighbours at one instant — the predecessor (or, if none, the chain's end).
    if (inoAt(chainPath(file, index)) === of.ino) return older === null ? null : { ...older, index: olderIndex };
    if (older !== null) fs.closeSync(older.fd);
  }
  return null;
}

/** The file with this inode wherever it now is in the chain, or null when it left the chain. */
export function openByIno(file: string, keep: number, ino: number): OpenFile | null {
  // Walking up while rotations move the file up too still meets it: it moves one step per
  // rotation, the walk one step per name.
  for (let index = 0; index <= keep; index++) {
    const opened = tryOpen(chainPath(file, index));
    if (opened === null) continue;
    if (opened.ino === ino) return opened;
    fs.closeSync(opened.fd);
  }
  return null;
}

/**
 * The file written right after the one with inode `ino` (rotated already, and kept open by the
 * caller so that its inode number cannot be reused while we look): 'lost' when `ino` fell off
 * the end of the chain, 'busy' when the writer is mid-shift (try again on the next wake-up).
 */
export function openSuccessor(file: string, keep: number, ino: number): OpenFile | 'lost' | 'busy' {
  for (let attempt = 0; attempt < 8; attempt++) {
    const index = indexOf(file, 1, keep, ino);
    if (index < 0) return 'lost';
    const next = tryOpen(chainPath(file, index - 1));
    // The shift renames oldest first, so index-1 is briefly vacant after it moved up.
    if (next === null) return 'busy';
    // Still at `index` after opening index-1: no rename into `index` happened in between, so
    // what we opened was its neighbour at one instant — the successor.
    if (inoAt(chainPath(file, index)) === ino) return next;
    fs.closeSync(next.fd);
  }
  return 'busy';
}

function indexOf(file: string, from: number, keep: number, ino: number): number {
  for (let index = from; index <= keep; index++) if (inoAt(chainPath(file, index)) === ino) return index;
  return -1;
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
