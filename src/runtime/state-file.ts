// The project's PID journal (state.json): which process groups are running, written ahead by
// whoever spawns them (the keeper, or a foreground engine) so that a crash at any instant —
// SIGKILL included — leaves enough for the next start to end every survivor. Per unit it holds
// either the group leader (PID + /proc start time) or, between "about to spawn" and "spawned",
// an intent: a child may exist whose PID was never written (the spawner died inside fork/exec).
//
// A journal: a full snapshot (temp file + rename) followed by one appended line per change,
// compacted now and then. Appends go to an fd held open and are on disk (page cache) when
// write() returns — that is all a process crash needs; fsync would guard only against a power
// loss, which ends the services too.
import fs from 'node:fs';
import { readStat } from '../host/proc.js';
import { openOwnFile } from '../lib/own-file.js';
import type { SpawnJournal } from '../host/host.js';
import { bootTicks } from './boot-ticks.js';

/**
 * A process by PID and /proc start time (clock ticks since boot). The spawner knows the start
 * time only to within the moment of the spawn: then `until` closes the window [startTime,
 * until] it started in — PIDs are handed out in order, so no other process can have that PID
 * and a start time in a window of milliseconds.
 */
export interface RecordedProcess {
  readonly pid: number;
  readonly startTime: number;
  readonly until?: number;
}

/** Whether a process that started at `startTime` (ticks) is the one recorded. */
export const startedAsRecorded = (record: RecordedProcess, startTime: number): boolean =>
  record.until === undefined ? startTime === record.startTime : startTime >= record.startTime && startTime <= record.until;

/** A spawn that was under way: its child started at or after `since` (clock ticks since boot), in `cwd`. */
export interface SpawnIntent {
  readonly spawning: { readonly since: number; readonly cwd: string };
}

export type UnitRecord = RecordedProcess | SpawnIntent;

export interface StateFile {
  /** The process that wrote the journal (keeper or foreground engine). */
  readonly holder: RecordedProcess;
  readonly units: Readonly<Record<string, UnitRecord>>;
  /** tend's cgroup for the project, one cgroup per unit below it, when it had cgroups. */
  readonly cgroupRoot?: string;
}

export const isIntent = (record: UnitRecord): record is SpawnIntent => 'spawning' in record;

export function recordOf(pid: number): RecordedProcess | null {
  const stat = readStat(pid);
  return stat === null ? null : { pid, startTime: stat.startTime };
}

/** One change after the snapshot: a unit's group leader, an intent, or null once it has none. */
interface JournalLine {
  readonly unit: string;
  readonly record: UnitRecord | null;
}

/** Appended changes before the journal is rewritten as one snapshot. */
const COMPACT_AFTER = 500;
/** The file never grows without bound, whatever a reader finds in it. */
const MAX_READ_BYTES = 64 * 1024 * 1024;

export interface StateJournal extends SpawnJournal {
  /** The units and records now written (for tests and a clean `down`). */
  readonly units: ReadonlyMap<string, UnitRecord>;
  close(): void;
  /** Every group is gone (a clean stop): nothing left to recover, the file goes. */
  remove(): void;
}

/**
 * A journal for `holder`. The first change writes a fresh snapshot, so a previous holder's
 * records stay on disk until this one has ended them (keeper/main.ts does that first).
 * A refused write (disk full) is reported once through `warn` and never stops a spawn: the
 * service running matters more than the record of it.
 */
export function createStateJournal(
  file: string,
  holder: RecordedProcess,
  warn: (text: string) => void = () => {},
  cgroupRoot?: string,
): StateJournal {
  const units = new Map<string, UnitRecord>();
  let fd = -1;
  let appended = COMPACT_AFTER;
  let warned = false;
  // PIDs and ends of groups are held for one write with the next intent (or the end of this
  // turn): only an intent must be on disk before its fork; a PID line lost in a crash leaves
  // its intent, which finds the process all the same (runtime/leftovers.ts).
  let held: string[] = [];
  let flushQueued = false;

  function snapshot(): void {
    const temp = `${file}.${process.pid}.tmp`;
    fs.rmSync(temp, { force: true });
    const tempFd = openOwnFile(temp, 'create-new');
    try {
      writeAll(
        tempFd,
        `${JSON.stringify({ holder, units: Object.fromEntries(units), ...(cgroupRoot === undefined ? {} : { cgroupRoot }) })}\n`,
      );
    } finally {
      fs.closeSync(tempFd);
    }
    fs.renameSync(temp, file);
    if (fd >= 0) fs.closeSync(fd);
    fd = openOwnFile(file, 'append');
    appended = 0;
  }

  function record(unit: string, value: UnitRecord | null, now: boolean): void {
    if (value === null) {
      if (!units.has(unit)) return;
      units.delete(unit);
    } else units.set(unit, value);
    held.push(`${JSON.stringify({ unit, record: value } satisfies JournalLine)}\n`);
    if (now) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  }

  function flush(): void {
    flushQueued = false;
    if (held.length === 0) return;
    const lines = held;
    held = [];
    try {
      if (fd < 0 || appended + lines.length > COMPACT_AFTER) return snapshot();
      writeAll(fd, lines.join(''));
      appended += lines.length;
    } catch (error) {
      if (!warned)
        warn(
          `the PID journal ${file} could not be written (${error instanceof Error ? error.message : String(error)}); a crash now could leave services behind`,
        );
      warned = true;
      appended = COMPACT_AFTER; // try a full snapshot next time
    }
  }

  return {
    units,
    spawning: (unit, cwd) => record(unit, { spawning: { since: bootTicks(-1), cwd } }, true),
    spawned(unit, pid) {
      // Started between the intent and now: the window is the start time (no /proc read per spawn).
      const intent = units.get(unit);
      const since = intent !== undefined && isIntent(intent) ? intent.spawning.since : bootTicks(-1);
      record(unit, { pid, startTime: since, until: bootTicks(1) }, false);
    },
    gone: (unit) => record(unit, null, false),
    close,
    remove(): void {
      close();
      fs.rmSync(file, { force: true });
    },
  };

  function close(): void {
    flush();
    if (fd >= 0) fs.closeSync(fd);
    fd = -1;
  }
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

export function readState(file: string): StateFile | null {
  let text: string;
  try {
    const fd = openOwnFile(file, 'read'); // a link, or a file of another user's, is not ours to trust
    try {
      const size = Math.min(fs.fstatSync(fd).size, MAX_READ_BYTES);
      const buffer = Buffer.alloc(size);
      const read = fs.readSync(fd, buffer, 0, size, 0);
      text = buffer.toString('utf8', 0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null; // missing (or not a plain file): nothing to recover
  }
  const [head = '', ...changes] = text.split('\n').filter(Boolean);
  try {
    const snapshot = JSON.parse(head) as {
      holder?: RecordedProcess;
      engine?: RecordedProcess;
      units?: Record<string, UnitRecord>;
      cgroupRoot?: unknown;
    };
    const holder = snapshot?.holder ?? snapshot?.engine; // `engine`: the journal of tend 0.1's engine
    if (!snapshot || typeof snapshot !== 'object' || !snapshot.units || !holder) return null;
    const units: Record<string, UnitRecord> = {};
    for (const [unit, record] of Object.entries(snapshot.units)) if (isRecord(record)) units[unit] = record;
    for (const raw of changes) {
      const change = parseLine(raw); // a torn last line (killed mid-append) is skipped
      if (change === null) continue;
      if (change.record === null) delete units[change.unit];
      else units[change.unit] = change.record;
    }
    return typeof snapshot.cgroupRoot === 'string' ? { holder, units, cgroupRoot: snapshot.cgroupRoot } : { holder, units };
  } catch {
    return null; // a torn snapshot cannot happen (rename); anything else is not ours
  }
}

function parseLine(raw: string): JournalLine | null {
  try {
    const line = JSON.parse(raw) as { unit?: unknown; record?: unknown; process?: unknown };
    if (typeof line?.unit !== 'string') return null;
    const record = line.record ?? line.process ?? null; // `process`: tend 0.1's lines
    if (record === null) return { unit: line.unit, record: null };
    return isRecord(record) ? { unit: line.unit, record } : null;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is UnitRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { pid?: unknown; startTime?: unknown; until?: unknown; spawning?: { since?: unknown; cwd?: unknown } };
  if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.startTime === 'number')
    return v.until === undefined || typeof v.until === 'number';
  return typeof v.spawning?.since === 'number' && typeof v.spawning.cwd === 'string';
}
