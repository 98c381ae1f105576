// Gzips a sink's rotated files (file.2 … file.keep; file.1 stays plain) in the background, one at
// a time: node:zlib streams, so the writer's event loop is never held for a whole file. Owns the
// temp file and the plain → .gz switch; the sink owns rotation and tells it when names shift.
//
// A .gz appears only complete (temp name, then rename), and the plain file is removed only after
// that rename: at every instant each rotated file is under at least one name, and readers prefer
// the plain one when both briefly exist (rotation-chain.ts), so no line is read twice or missed.

import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { TendError } from '../errors.js';
import { FIRST_COMPRESSED, compressTempName, gzName, plainName } from './chain-names.js';
import { withOrigin } from './gzip-origin.js';
import { openLogFile, openLogForReading, type LogAccess } from './log-files.js';

export interface Compressor {
  /** Looks for rotated plain files to compress and starts on the newest of them if idle. */
  kick(): void;
  /** Called right before the sink shifts names up by one (file.keep is deleted, N → N+1). */
  shifting(): void;
  /** Resolves once nothing is being compressed or due since the last kick (or it is closed). */
  settled(): Promise<void>;
  /** Abandons the compression in flight: its temp file goes, its plain file stays for the next sink. */
  close(): void;
}

interface Job {
  /** Where the source is now: the sink bumps it on every shift. */
  index: number;
  readonly ino: number;
  readonly abort: AbortController;
}

export function createCompressor({
  file,
  keep,
  access,
  onError,
}: {
  file: string;
  keep: number;
  access: LogAccess;
  onError: (error: TendError) => void;
}): Compressor {
  const temp = compressTempName(file);
  let job: Job | null = null;
  let isClosed = false;
  // Sources (by inode) whose compression failed: left plain until the next rotation rather than
  // retried in a tight loop. Forgotten at each rotation, so a reused inode number is not shunned.
  const failed = new Set<number>();
  let waiters: Array<() => void> = [];

  function report(what: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    onError(new TendError('TEND_LOG_DIR', `${what}: ${reason}`, { cause: error }));
  }

  function wakeWaiters(): void {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve();
  }

  /** The newest rotated plain file still to compress: a fresh rotation lands at index 2 first. */
  function nextDue(): { index: number; fd: number; ino: number } | null {
    for (let index = FIRST_COMPRESSED; index <= keep; index++) {
      let fd: number | null;
      try {
        fd = openLogForReading(plainName(file, index)); // never through a link: its bytes would be published
      } catch (error) {
        report(`compressing ${plainName(file, index)}`, error);
        continue;
      }
      if (fd === null) continue;
      const { ino } = fs.fstatSync(fd);
      if (!failed.has(ino)) return { index, fd, ino };
      fs.closeSync(fd);
    }
    return null;
  }

  function start(): void {
    try {
      startNext();
    } catch (error) {
      // An fs call refused outright (EACCES, EIO…): said once by the sink's owner; tried again
      // at the next rotation. Never thrown into the writer or a stream callback.
      report(`compressing rotated files of ${file}`, error);
    }
  }

  function startNext(): void {
    if (job !== null || isClosed) return;
    const due = nextDue();
    if (due === null) return wakeWaiters();
    let out: number;
    try {
      // A temp left by a crash (or an abandoned job) goes first; the new one is created, never reused.
      removeTemp();
      out = openLogFile(temp, 'create-new', access);
    } catch (error) {
      fs.closeSync(due.fd);
      failed.add(due.ino);
      report(`compressing ${plainName(file, due.index)}`, error);
      return startNext();
    }
    const current: Job = { index: due.index, ino: due.ino, abort: new AbortController() };
    job = current;
    pipeline(
      fs.createReadStream(plainName(file, due.index), { fd: due.fd }),
      zlib.createGzip(),
      withOrigin(due.ino),
      // flush: fsync before close, so the rename below never publishes a .gz whose bytes a
      // crash could still lose after the plain file is gone.
      fs.createWriteStream(temp, { fd: out, flush: true }),
      { signal: current.abort.signal },
    ).then(
      () => finish(current, null),
      (error: unknown) => finish(current, error),
    );
  }

  function finish(done: Job, error: unknown): void {
    // Abandoned (close, or dropped off the chain): whoever abandoned it cleaned up.
    if (job !== done) return;
    job = null;
    try {
      if (error !== null) throw error;
      publish(done);
    } catch (failure) {
      failed.add(done.ino);
      removeTemp();
      report(`compressing ${plainName(file, done.index)}`, failure);
    }
    start();
  }

  /** temp → file.N.gz, then the plain file.N goes: both briefly exist, never neither. */
  function publish(done: Job): void {
    const index = indexOf(done);
    if (index < 0) return removeTemp(); // rotated off the chain (or removed) meanwhile
    fs.renameSync(temp, gzName(file, index));
    fs.unlinkSync(plainName(file, index));
  }

  /** The source's index now: normally the tracked one; a failed shift may have left it behind. */
  function indexOf(done: Job): number {
    if (inoAt(plainName(file, done.index)) === done.ino) return done.index;
    for (let index = FIRST_COMPRESSED; index <= keep; index++) if (inoAt(plainName(file, index)) === done.ino) return index;
    return -1;
  }

  function abandon(): void {
    if (job === null) return;
    job.abort.abort();
    job = null;
    removeTemp();
  }

  function removeTemp(): void {
    try {
      fs.unlinkSync(temp);
    } catch (error) {
      if (!isMissing(error)) report(`removing ${temp}`, error);
    }
  }

  return {
    kick: start,
    shifting(): void {
      failed.clear();
      if (job === null) return;
      // The oldest is about to be deleted: compressing it further is wasted work.
      if (job.index >= keep) abandon();
      else job.index++;
    },
    settled(): Promise<void> {
      if (isClosed || job === null) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    close(): void {
      isClosed = true;
      abandon();
      wakeWaiters();
    },
  };
}

function inoAt(name: string): number {
  try {
    return fs.statSync(name).ino;
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
