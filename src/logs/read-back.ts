// Reads the lines of a file chain newest first, backwards in blocks, as far as the caller pulls:
// `tend logs -n 1000` over hundreds of MB touches only the last few blocks. Owns the backward
// line split and where whole lines end; knows no line format and never writes. A compressed
// rotation (file.N.gz) is decompressed in memory only when the caller pulls that far back.

import fs from 'node:fs';
import { gunzipFd } from './gzip-origin.js';
import { openNewest, openPredecessor, type ChainFile, type FilePosition } from './rotation-chain.js';

// The first block is small and each next one twice the last, up to BLOCK: a read-back of the
// last lines of 200 files (the dashboard's, `logs -n 200`) takes a line or two of each, and
// 200 blocks of 64 KiB at once cost 12 MB and decoding ~800 lines per file for nothing.
const FIRST_BLOCK = 4 * 1024;
const BLOCK = 64 * 1024;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

export interface ChainReader {
  /**
   * Where whole lines ended in the current file when it was opened (ino 0: there was none). The
   * reader never returns a byte after it, so a follower starting here repeats and skips nothing.
   */
  readonly position: FilePosition;
  /** The next older line (without "\n", decoded as UTF-8), or undefined past the oldest kept. */
  next(): string | undefined;
  /** Releases the open file; call it whether or not every line was read. Idempotent. */
  close(): void;
}

/** A pull reader over `file`, then file.1 … file.keep (plain or .gz); the caller closes it. */
export function openChainBackward(file: string, keep: number): ChainReader {
  let block = Buffer.allocUnsafe(FIRST_BLOCK);
  let opened: ChainFile | null = openNewest(file, keep);
  let pos = 0; // bytes of `opened` before pos are not read yet
  let tail = EMPTY; // the end of a line whose start lies before pos (a copy: the block is reused)
  let isLastSegment = true; // what follows the file's last "\n": a line only when not empty
  let pending: string[] = []; // lines of the last block read, newest first
  let taken = 0;
  let position: FilePosition = { ino: 0, offset: 0 };
  let unpacked: Buffer | null = null; // the content of `opened` when it is a .gz

  function enter(next: ChainFile | null, end: number): void {
    opened = next;
    pos = end;
    tail = EMPTY;
    isLastSegment = true;
  }

  /** A whole rotated file, read from its end. */
  function enterWhole(next: ChainFile | null): void {
    unpacked = next?.isCompressed ? unpack(next.fd) : null;
    enter(next, unpacked?.length ?? next?.size ?? 0);
  }

  try {
    if (opened !== null && opened.index === 0) {
      // The bytes after the last "\n" are a line still being written: left to the follower.
      position = { ino: opened.ino, offset: lastLineEnd(opened.fd, opened.size, block) };
      enter(opened, position.offset);
    } else enterWhole(opened);
  } catch (error) {
    if (opened !== null) fs.closeSync(opened.fd);
    throw error;
  }

  function readBlock(fd: number): void {
    const length = Math.min(block.length, pos);
    pos -= length;
    if (unpacked !== null) unpacked.copy(block, 0, pos, pos + length);
    else readFully(fd, block, length, pos);
    const lines: string[] = [];
    let lineEnd = length;
    for (let nl = block.lastIndexOf(LF, length - 1); nl >= 0; nl = nl > 0 ? block.lastIndexOf(LF, nl - 1) : -1) {
      const line = tail.length === 0 ? block.subarray(nl + 1, lineEnd) : Buffer.concat([block.subarray(nl + 1, lineEnd), tail]);
      if (!isLastSegment || line.length > 0) lines.push(line.toString('utf8'));
      isLastSegment = false;
      tail = EMPTY;
      lineEnd = nl;
    }
    tail = Buffer.concat([block.subarray(0, lineEnd), tail]);
    // The file's first line has no "\n" before it.
    if (pos === 0 && (!isLastSegment || tail.length > 0)) lines.push(tail.toString('utf8'));
    pending = lines;
    taken = 0;
    // `tail` is a copy, so the next block may be a new buffer.
    if (block.length < BLOCK) block = Buffer.allocUnsafe(block.length * 2);
  }

  function next(): string | undefined {
    while (taken >= pending.length) {
      if (opened === null) return undefined;
      if (pos > 0) readBlock(opened.fd);
      else {
        // This file is done; it stays open until its predecessor is found (see openPredecessor).
        const older = openPredecessor(file, keep, opened);
        fs.closeSync(opened.fd);
        enterWhole(older);
      }
    }
    return pending[taken++];
  }

  function close(): void {
    if (opened !== null) fs.closeSync(opened.fd);
    opened = null;
    unpacked = null;
    pending = [];
  }

  return { position, next, close };
}

/**
 * A .gz's lines; a damaged one counts as empty: it cannot become readable later, and refusing the
 * whole read-back for it would hide every other line until it rotates away.
 */
function unpack(fd: number): Buffer {
  try {
    return gunzipFd(fd);
  } catch {
    return EMPTY;
  }
}

/** Where whole lines now end in `file` (a follower with nothing to catch up starts there). */
export function positionAtEnd(file: string): FilePosition {
  const reader = openChainBackward(file, 0);
  reader.close();
  return reader.position;
}

/** The offset just past the last "\n" before `end`, or 0 when there is none. */
function lastLineEnd(fd: number, end: number, block: Buffer): number {
  for (let pos = end; pos > 0; ) {
    const length = Math.min(block.length, pos);
    pos -= length;
    readFully(fd, block, length, pos);
    const nl = block.lastIndexOf(LF, length - 1);
    if (nl >= 0) return pos + nl + 1;
  }
  return 0;
}

function readFully(fd: number, block: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const got = fs.readSync(fd, block, done, length - done, position + done);
    if (got === 0) {
      // Truncated under us: the missing bytes become NULs, which no parser accepts as a line.
      block.fill(0, done, length);
      return;
    }
    done += got;
  }
}
