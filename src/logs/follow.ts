// Read-back for `tend logs` and `tend events`: the last lines across rotated files, merged by
// time (a snapshot), then live lines by tailing the files (the writer may be another process).
// A snapshot returns the positions it read up to; following from them neither drops nor repeats
// a line. Reads only: it never writes a log file nor hooks into the writer.

import type { EventRecord, LogRecord } from '../api/protocol.js';
import { TendError } from '../errors.js';
import { parseLogLine } from './file-sink.js';
import { openChainBackward, type ChainReader } from './read-back.js';
import type { FilePosition } from './rotation-chain.js';
import { createTailer, type Tailer } from './tailer.js';

export type { FilePosition } from './rotation-chain.js';

export interface LogFile {
  readonly service: string;
  readonly file: string;
  /** Rotated files kept (file.1 … file.keep), as configured for the writer. */
  readonly keep: number;
  /** How records of instance N are labelled ("web" or "web.1", as ps shows them); default: the id. */
  readonly label?: (instance: number) => string;
}

/** Per service: where the snapshot stopped reading its current file. */
export type LogPositions = ReadonlyMap<string, FilePosition>;

export interface LogSnapshot {
  readonly records: LogRecord[];
  readonly positions: LogPositions;
}

export interface EventSnapshot {
  readonly records: EventRecord[];
  readonly position: FilePosition;
}

export interface Follower {
  /** Stops reading and releases every fd, watcher and timer. Idempotent. */
  stop(): void;
  /** Reads nothing until resume() (a reader that is behind): the files keep what it has not read. */
  pause(): void;
  resume(): void;
}

export interface ReadLastLinesOptions {
  readonly files: readonly LogFile[];
  readonly lines: number;
  /** Only lines at or after this epoch ms. */
  readonly since?: number;
}

/**
 * The last `lines` lines of the services, oldest first, merged by time (ties keep each service's
 * order, then the order of `files`). Lines not in the sink's format are skipped. Pulls lines
 * newest first from every service at once, so the work grows with `lines`, not with services.
 */
export function readLastLines({ files, lines, since }: ReadLastLinesOptions): LogSnapshot {
  const wanted = Math.max(0, Math.floor(lines));
  const floor = since === undefined ? undefined : isoOf(since);
  const sources: { readonly source: LogFile; readonly reader: ChainReader }[] = [];
  const pull = ({ source, reader }: (typeof sources)[number]): LogRecord | undefined => {
    for (;;) {
      const line = reading(source.file, () => reader.next());
      if (line === undefined) return undefined;
      const record = toLogRecord(source, line);
      // Lines in a chain are in time order: the first older one ends this service.
      if (record !== null) return floor !== undefined && record.time < floor ? undefined : record;
    }
  };
  try {
    for (const source of files) sources.push({ source, reader: reading(source.file, () => openChainBackward(source.file, source.keep)) });
    const heads = sources.map((source) => (wanted > 0 ? pull(source) : undefined));
    const merged: LogRecord[] = [];
    while (merged.length < wanted) {
      const pick = newestHead(heads);
      const [record, source] = [heads[pick], sources[pick]];
      if (record === undefined || source === undefined) break;
      merged.push(record);
      heads[pick] = pull(source);
    }
    const positions = new Map(sources.map(({ source, reader }) => [source.service, reader.position]));
    return { records: merged.reverse(), positions };
  } finally {
    for (const { reader } of sources) reader.close();
  }
}

/**
 * Pushes every whole line appended from `from` (per service; default: the current end) in file
 * order per service; across services in arrival order.
 */
export function followLogs(
  { files, from }: { files: readonly LogFile[]; from?: LogPositions },
  push: (record: LogRecord) => void,
  onError?: (error: Error) => void,
): Follower {
  const tailers: Tailer[] = [];
  try {
    for (const source of files) {
      const { service, file, keep } = source;
      const start = from?.get(service);
      const onLine = (line: string): void => {
        const record = toLogRecord(source, line);
        if (record !== null) push(record);
      };
      tailers.push(
        reading(file, () => createTailer({ path: file, keep, onLine, ...(start ? { from: start } : {}), ...(onError ? { onError } : {}) })),
      );
    }
  } catch (error) {
    for (const tailer of tailers) tailer.stop();
    throw error;
  }
  return {
    stop: () => {
      for (const tailer of tailers) tailer.stop();
    },
    pause: () => {
      for (const tailer of tailers) tailer.pause();
    },
    resume: () => {
      for (const tailer of tailers) tailer.resume();
    },
  };
}

/** The last `lines` events of events.jsonl, oldest first; lines that are not an event are skipped. */
export function readLastEvents(file: string, lines: number): EventSnapshot {
  const wanted = Math.max(0, Math.floor(lines));
  // Not rotated today (keep 0); the tailer still handles a truncation or a replaced file.
  const reader = reading(file, () => openChainBackward(file, 0));
  try {
    const records: EventRecord[] = [];
    while (records.length < wanted) {
      const line = reading(file, () => reader.next());
      if (line === undefined) break;
      const record = toEventRecord(line);
      if (record !== null) records.push(record);
    }
    return { records: records.reverse(), position: reader.position };
  } finally {
    reader.close();
  }
}

export function followEvents(
  file: string,
  from: FilePosition | undefined,
  push: (record: EventRecord) => void,
  onError?: (error: Error) => void,
): Follower {
  const onLine = (line: string): void => {
    const record = toEventRecord(line);
    if (record !== null) push(record);
  };
  return reading(file, () => createTailer({ path: file, keep: 0, onLine, ...(from ? { from } : {}), ...(onError ? { onError } : {}) }));
}

function toLogRecord({ service, label }: LogFile, line: string): LogRecord | null {
  const parsed = parseLogLine(line);
  if (parsed === null) return null;
  // The file alone knows the id; the engine's label (by its config: "web" while it has one instance) when given.
  const unit = `${service}.${parsed.instance}`;
  const shown = label?.(parsed.instance) ?? unit;
  return { time: parsed.time, service, instance: parsed.instance, unit, label: shown, stream: parsed.stream, line: parsed.text };
}

function toEventRecord(line: string): EventRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.time !== 'string' || typeof record.kind !== 'string') return null;
  return record as EventRecord;
}

/** The index of the newest head; on equal times the later one, so in time order earlier files come first. */
function newestHead(heads: readonly (LogRecord | undefined)[]): number {
  let pick = -1;
  let pickTime = '';
  for (let index = heads.length - 1; index >= 0; index--) {
    const time = heads[index]?.time;
    // ISO times of one fixed format compare as strings.
    if (time !== undefined && (pick < 0 || time > pickTime)) {
      pick = index;
      pickTime = time;
    }
  }
  return pick;
}

function isoOf(since: number): string {
  if (!Number.isFinite(since)) throw new TendError('TEND_USAGE', `--since must name a time, got ${since}`);
  return new Date(since).toISOString();
}

/** Runs a read of `file`; an I/O failure becomes a TendError naming the file. */
function reading<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TendError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TendError('TEND_LOG_DIR', '', { message: `cannot read logs: ${file}: ${reason}`, cause: error });
  }
}
