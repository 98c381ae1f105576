// The supervisor's event journal: one JSON object per line, appended synchronously. It owns
// the file and its encoding only; what an event contains is decided by the engine.
// Sync for the same reasons as file-sink.ts: on disk (page cache) before append() returns, so
// `tend events` sees it at once and a crash right after loses nothing that was reported.

import fs from 'node:fs';
import { TendError } from '../errors.js';
import { openLogFile } from './log-files.js';

export interface EventsFile {
  /**
   * Writes each record as one JSON line, all or nothing: when the disk refuses part of them the
   * file is cut back to where it was, so no torn record is left. Throws TendError TEND_LOG_DIR then.
   */
  append(...records: object[]): void;
  close(): void;
}

export function openEventsFile(file: string): EventsFile {
  let fd = openLogFile(file, 'append');

  function append(...records: object[]): void {
    if (fd < 0) throw new Error(`events file ${file} is closed`);
    // JSON.stringify escapes newlines inside strings, so one record is always one line.
    const bytes = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      if (done > 0) takeBack(done);
      throw eventsError(`writing ${file}`, error);
    }
  }

  function takeBack(written: number): void {
    try {
      fs.ftruncateSync(fd, fs.fstatSync(fd).size - written);
    } catch {
      // The torn tail stays; readers skip a line that is not an event.
    }
  }

  function close(): void {
    if (fd < 0) return;
    fs.closeSync(fd);
    fd = -1;
  }

  return { append, close };
}

function eventsError(what: string, error: unknown): TendError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TendError('TEND_LOG_DIR', `${what}: ${reason}`, { cause: error });
}
