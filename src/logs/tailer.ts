// Follows one growing file by reading it (tailing): whole lines only, each once, in file order,
// across the writer's rotations (rotation-chain.ts) and truncations. Wakes on fs.watch of the
// directory with a slow poll as backstop — never a busy loop. Reads only: the writer may be
// another process (the keeper), so nothing here relies on being told about writes. A follower
// that fell behind a compression reads that file from its .gz (found by origin, never both).

import fs from 'node:fs';
import path from 'node:path';
import { watchName, type NameWatch } from './dir-watch.js';
import { gunzipFd } from './gzip-origin.js';
import { createLineDecoder } from './line-decoder.js';
import { positionAtEnd } from './read-back.js';
import { inoAt, openByIno, openSuccessor, tryOpen, type FilePosition, type OpenFile } from './rotation-chain.js';

export interface TailerOptions {
  readonly path: string;
  /** Rotated files (path.1 … path.keep) to chase through when the writer rotates. */
  readonly keep: number;
  /** Where to start (e.g. a snapshot's position); default: where whole lines end now. */
  readonly from?: FilePosition;
  /** One whole line without its "\n", decoded as UTF-8. */
  readonly onLine: (line: string) => void;
  /** A read failed (retried on the next wake-up) or lines were skipped (said in the message). */
  readonly onError?: (error: Error) => void;
  /** Backstop poll interval; fs.watch usually wakes the tailer first. */
  readonly pollMs?: number;
}

export interface Tailer {
  stop(): void;
  /**
   * Stop reading (the reader of what we read is behind), but keep chasing and holding the
   * writer's rotations, so nothing is lost while paused; resume() reads on from where it was.
   */
  pause(): void;
  resume(): void;
}

const READ_SIZE = 64 * 1024;
// Read per turn of the event loop: a flood never starves the rest of the process.
const TURN_BYTES = 2 * 1024 * 1024;
// Rotated-away files held open for a reader that is behind; past this the oldest is let go.
const MAX_PINNED = 32;

// One read buffer for every tailer of the process: reads are synchronous and the line decoder
// copies what it keeps, so none holds it past a read. (A buffer each made 64 KiB per followed
// file: 64 MB for 5 dashboards following 200 logs.)
const buffer = Buffer.allocUnsafe(READ_SIZE);

export function createTailer({ path: file, keep, from, onLine, onError, pollMs = 250 }: TailerOptions): Tailer {
  let isStopped = false;
  const decoder = createLineDecoder((line) => {
    if (!isStopped) onLine(line);
  });
  // The files still to read, oldest first, each held open from the moment it is seen: a file
  // rotated off the end of the chain then stays readable, and its inode number (how the next
  // file is found) cannot be reused by a new file. queue[0] is read from `offset`.
  const queue: OpenFile[] = [];
  let offset = 0;
  // The content of queue[0] when it is a .gz, unpacked when reading reaches it.
  let unpacked: Buffer | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let watcher: NameWatch | null = null;
  let lastError = '';
  let isPaused = false;

  function report(error: Error): void {
    // Once per distinct failure: the backstop poll retries every pollMs.
    if (error.message !== lastError && !isStopped) onError?.(error);
    lastError = error.message;
  }

  function startAt({ ino, offset: at }: FilePosition): void {
    // No file at the snapshot: the first one to appear is read from its start.
    if (ino === 0) return;
    const found = openByIno(file, keep, ino);
    if (found !== null) {
      queue.push(found);
      offset = at;
      return;
    }
    // Left the chain since (or removed): start the current file at 0, never repeat a line.
    report(new Error(`${file} rotated more than ${keep} times since the snapshot (or was removed): lines in between were skipped`));
    const current = tryOpen(file);
    if (current !== null) queue.push(current);
  }

  /** Holds open every file the writer started since we last looked. */
  function discover(): void {
    let newest = queue.at(-1);
    if (newest === undefined) {
      const opened = tryOpen(file);
      if (opened !== null) queue.push(opened);
      return;
    }
    for (let guard = 0; guard <= keep + 1; guard++) {
      const current = inoAt(file);
      // 0: no name (mid-rotation, or removed): keep reading what we hold.
      if (current === 0 || current === newest.ino) return;
      const next = openSuccessor(file, keep, newest);
      if (next === 'busy') return;
      if (next === 'lost') {
        report(
          new Error(
            `lost track of ${file} (rotated more than ${keep} times between two reads, or replaced): following the new file from its start, lines in between may be missing`,
          ),
        );
        const opened = tryOpen(file);
        if (opened !== null) queue.push(opened);
        return;
      }
      queue.push((newest = next));
      if (queue.length > MAX_PINNED) {
        const [dropped] = queue.splice(1, 1);
        // queue[0] stays, so `unpacked` is still its content.
        if (dropped) fs.closeSync(dropped.fd);
        report(new Error(`${file}: the reader fell ${MAX_PINNED} files behind: lines of one file were skipped`));
      }
    }
  }

  function poll(): void {
    immediate = null;
    if (isStopped) return;
    try {
      if (isPaused) return discover(); // hold on to rotated files; read nothing
      let budget = TURN_BYTES;
      while (budget > 0 && !isStopped && !isPaused) {
        // Before every read (one stat when nothing changed): a writer may rotate every few ms.
        discover();
        const head = queue[0];
        if (head === undefined) break;
        const got = readHead(head, Math.min(buffer.length, budget));
        if (got > 0) {
          // Advanced first: a consumer that throws loses the rest of a chunk, never repeats one.
          offset += got;
          budget -= got;
          decoder.push(buffer.subarray(0, got));
        } else if (queue.length > 1) {
          // A newer file was seen before this read met the end: the writer had left this one,
          // so its end is final.
          queue.shift();
          fs.closeSync(head.fd);
          offset = 0;
          unpacked = null;
          decoder.flush();
        } else if (!head.isCompressed && fs.fstatSync(head.fd).size < offset) {
          // Truncated (keep = 0 rotation, or by hand): the held bytes were of the old content.
          // (Refilled past `offset` before we look, a truncation cannot be seen: inherent to keep = 0.)
          offset = 0;
          decoder.reset();
        } else break;
      }
      if (budget <= 0 && !isPaused) wake();
      lastError = '';
    } catch (error) {
      report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Reads up to `length` bytes of the head file at `offset` into `buffer`. */
  function readHead(head: OpenFile, length: number): number {
    if (!head.isCompressed) return fs.readSync(head.fd, buffer, 0, length, offset);
    if (unpacked === null) {
      try {
        unpacked = gunzipFd(head.fd);
      } catch (error) {
        // Damaged: it will not heal. Said once; its lines are skipped, the next file follows.
        unpacked = Buffer.alloc(0);
        report(
          new Error(
            `${file}: a compressed rotation could not be read, its lines were skipped: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      }
    }
    return offset >= unpacked.length ? 0 : unpacked.copy(buffer, 0, offset, Math.min(unpacked.length, offset + length));
  }

  function wake(): void {
    if (immediate === null && !isStopped) immediate = setImmediate(poll);
  }

  function watch(): void {
    if ((watcher !== null && !watcher.closed) || isStopped) return;
    try {
      // The directory, not the file: a watch on the file follows its inode into file.1.
      watcher = watchName(path.dirname(file), path.basename(file), wake);
    } catch {
      // No directory yet (or no inotify watch left): the backstop poll covers it and re-arms.
      watcher = null;
    }
  }

  startAt(from ?? positionAtEnd(file));
  // The backstop: every pollMs without a watch, four times slower with one (it only covers a
  // missed change; with many tailers, every poll is a stat and a read).
  let timer: NodeJS.Timeout;
  const backstop = (): void => {
    watch();
    wake();
    timer = setTimeout(backstop, watcher !== null && !watcher.closed ? pollMs * 4 : pollMs);
  };
  backstop();

  return {
    pause(): void {
      isPaused = true;
    },
    resume(): void {
      if (!isPaused) return;
      isPaused = false;
      wake();
    },
    stop(): void {
      if (isStopped) return;
      isStopped = true;
      clearTimeout(timer);
      if (immediate !== null) clearImmediate(immediate);
      watcher?.close();
      watcher = null;
      for (const opened of queue.splice(0)) fs.closeSync(opened.fd);
      unpacked = null;
    },
  };
}
