// The per-service log file: appends framed lines with time, instance and stream, and rotates
// by size between two whole lines (never a line split across files, none lost or doubled).
// It does not frame bytes (framer.ts) nor read files back (follow.ts); one sink per service,
// shared by all its instances.
//
// Writes are synchronous on purpose: when write() returns, the bytes are in the page cache, so
// a reader (`tend logs`, a log-line probe) that runs next sees them; there is no user-space
// buffer to lose on a crash; and rotation is trivial because no write is ever in flight.
// Throughput stays high because each batch (one chunk's lines) is ONE writeSync of one Buffer.
// With `compress`, rotated files from file.2 on are gzipped in the background (compressor.ts).

import fs from 'node:fs';
import type { OutputStream } from '../host/host.js';
import { TendError } from '../errors.js';
import { gzName, plainName } from './chain-names.js';
import { createCompressor, type Compressor } from './compressor.js';
import { openLogFile, privateAccess, type LogAccess } from './log-files.js';

export interface FileSinkOptions {
  readonly file: string;
  /** Rotate before the file would grow past this many bytes; 0 = never rotate. */
  readonly maxSize: number;
  /** Rotated files kept (file.1 … file.keep); 0 = start the file over (truncate) instead. */
  readonly keep: number;
  /** Gzip rotated files other than the newest (file.2.gz … file.keep.gz). Default false. */
  readonly compress?: boolean;
  /**
   * A rotation or compression failed (rename refused, ...). Lines are never dropped for it: they
   * stay in the current file and rotation is tried again after another maxSize bytes; a file that
   * could not be compressed stays plain. Default: ignore.
   */
  readonly onRotateError?: (error: TendError) => void;
  /** Mode and group of the file and its rotated copies. Default 0600, tend's group. */
  readonly access?: LogAccess;
}

interface LineMeta {
  /** Epoch ms at which the chunk was read; one timestamp for all its lines. */
  readonly time: number;
  readonly instance: number;
  readonly stream: OutputStream;
}

export interface FileSink {
  /**
   * Appends the lines (without "\n"). Throws TendError TEND_LOG_DIR when the disk refuses them;
   * the error's `linesWritten` says how many of the first lines made it (whole) before that.
   */
  write(lines: readonly Buffer[], meta: LineMeta): void;
  /** Stops writing; a compression in flight is abandoned (its plain file stays, see compressor.ts). */
  close(): void;
  /** Resolves once no compression is running or due (none before the first write, nor without `compress`). */
  settled(): Promise<void>;
  readonly path: string;
}

export interface LogLine {
  readonly time: string;
  readonly instance: number;
  readonly stream: OutputStream;
  readonly text: string;
}

/**
 * Where a batch is assembled before its one writeSync. One for every sink of the process (a
 * keeper with 1,000 services holds 1,000 sinks): a write is over, synchronously, before the
 * next one starts, so no two ever share it at once.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);

export function openFileSink({ file, maxSize, keep, compress = false, onRotateError, access = privateAccess }: FileSinkOptions): FileSink {
  const openLog = (how: 'append' | 'truncate'): number => openLogFile(file, how, access);
  let fd = openLog('append');
  // file.1 is never compressed, so with keep < 2 there is nothing to do.
  const compressor: Compressor | null =
    compress && keep >= 2 ? createCompressor({ file, keep, access, onError: (error) => onRotateError?.(error) }) : null;
  // The compressor starts at the first write, not at open: a sink that only ever opens the file
  // (the engine's while the keeper writes) must not touch rotated files the writer is shifting.
  let hasWritten = false;
  let size = fs.fstatSync(fd).size;
  // Rotate when a line would push the file past this; raised after a failed rotation.
  let rotateAt = maxSize > 0 ? maxSize : Infinity;
  let prefix = { time: NaN, instance: -1, stream: '', bytes: Buffer.alloc(0) };

  function prefixFor({ time, instance, stream }: LineMeta): Buffer {
    if (prefix.time !== time || prefix.instance !== instance || prefix.stream !== stream) {
      const text = `${new Date(time).toISOString()} ${instance} ${stream} `;
      prefix = { time, instance, stream, bytes: Buffer.from(text, 'latin1') };
    }
    return prefix.bytes;
  }

  /**
   * Writes scratch[0, length) whole, or not at all: a write cut short (the disk filled up
   * midway) is taken back with ftruncate, so the file never holds a torn line and the caller
   * knows exactly which lines are in it.
   */
  function flush(length: number): void {
    let done = 0;
    try {
      // A regular file takes it all in one call; the loop only guards a short write.
      while (done < length) done += fs.writeSync(fd, scratch, done, length - done);
      size += done;
    } catch (error) {
      if (done > 0) {
        try {
          fs.ftruncateSync(fd, size);
        } catch {
          // could not take it back: the torn bytes stay, the next line starts after them
        }
      }
      throw logError(`writing ${file}`, error);
    }
  }

  function rotate(): void {
    try {
      compressor?.shifting();
      const next = keep > 0 ? shiftFiles(file, keep, openLog) : openLog('truncate');
      fs.closeSync(fd);
      fd = next;
      size = 0;
      rotateAt = maxSize;
    } catch (error) {
      rotateAt = size + maxSize;
      onRotateError?.(logError(`rotating ${file}`, error));
    }
    // After a failed shift too: the compressor checks where its file really is before publishing.
    compressor?.kick();
  }

  function write(lines: readonly Buffer[], meta: LineMeta): void {
    if (fd < 0) throw new Error(`log sink ${file} is closed`);
    if (!hasWritten) {
      hasWritten = true;
      // Rotated files left plain by an earlier sink (closed mid-compression, compress just
      // turned on, a crash) are compressed now.
      compressor?.kick();
    }
    const head = prefixFor(meta);
    let total = 0;
    for (const line of lines) total += head.length + line.length + 1;
    if (scratch.length < total) scratch = Buffer.allocUnsafe(Math.max(total, scratch.length * 2));
    let at = 0;
    let written = 0; // lines already on disk, when a later flush fails
    for (const [index, line] of lines.entries()) {
      const bytes = head.length + line.length + 1;
      // A line alone bigger than maxSize still goes whole into a fresh file.
      if (size + at + bytes > rotateAt && size + at > 0) {
        flushCounting(at, written);
        written = index;
        at = 0;
        rotate();
      }
      at += head.copy(scratch, at);
      at += line.copy(scratch, at);
      scratch[at++] = 0x0a;
    }
    if (at > 0) flushCounting(at, written);
  }

  function flushCounting(length: number, written: number): void {
    try {
      flush(length);
    } catch (error) {
      throw Object.assign(error as TendError, { linesWritten: written });
    }
  }

  function close(): void {
    if (fd < 0) return;
    compressor?.close();
    fs.closeSync(fd);
    fd = -1;
  }

  return { write, close, settled: () => compressor?.settled() ?? Promise.resolve(), path: file };
}

/** One line of a log file (without its "\n"), or null when it is not in the sink's format. */
export function parseLogLine(line: string): LogLine | null {
  const match = LINE.exec(line);
  if (match === null) return null;
  const [, time = '', instance = '', stream, text = ''] = match;
  return { time, instance: Number(instance), stream: stream === 'err' ? 'err' : 'out', text };
}

// `s`: the text is everything after the stream, whatever bytes it holds (but a final "\n").
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\d+) (out|err) (.*?)\n?$/s;

/**
 * Drops file.keep, then file.(keep-1) → file.keep … file → file.1, then a fresh file. Each index
 * holds file.N or file.N.gz (both, briefly, while a compression publishes; never during a shift,
 * which runs in the same event loop); both names move, oldest first, so readers can chase them.
 */
function shiftFiles(file: string, keep: number, openLog: (how: 'append') => number): number {
  // Deleted, not renamed over: a .gz arriving at keep would not replace a plain file.keep.
  for (const name of [plainName(file, keep), gzName(file, keep)]) {
    try {
      fs.unlinkSync(name);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  for (let i = keep - 1; i >= 1; i--) {
    moveIfThere(gzName(file, i), gzName(file, i + 1));
    moveIfThere(plainName(file, i), plainName(file, i + 1));
  }
  // The open fd follows the renamed file, so nothing is written between rename and reopen.
  // Missing: someone removed the file under us; there is nothing to keep, start a fresh one.
  moveIfThere(file, plainName(file, 1));
  return openLog('append');
}

function moveIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

function logError(what: string, error: unknown): TendError {
  if (error instanceof TendError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new TendError('TEND_LOG_DIR', `${what}: ${reason}`, { cause: error });
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
