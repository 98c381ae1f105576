// What must survive the engine: which process groups it was running, each PID with its /proc
// start time. A journal: a full snapshot (written atomically, temp file + rename) followed by
// one appended line per change — a crash-looping service changes it at every respawn, and an
// append costs a fraction of a rename. Compacted into a new snapshot now and then. Read back by
// the next engine of the project; a PID is trusted only if its start time still matches.
import fs from 'node:fs';
import { readStat } from '../host/proc.js';

export interface RecordedProcess {
  readonly pid: number;
  readonly startTime: number;
}

export interface StateFile {
  readonly engine: RecordedProcess;
  readonly units: Readonly<Record<string, RecordedProcess>>;
}

export function recordOf(pid: number): RecordedProcess | null {
  const stat = readStat(pid);
  return stat === null ? null : { pid, startTime: stat.startTime };
}

export function writeState(file: string, state: StateFile): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** One change after the snapshot: a unit's group leader, or null once it has none. */
interface JournalLine {
  readonly unit: string;
  readonly process: RecordedProcess | null;
}

/** Appended changes before the journal is rewritten as one snapshot. */
const COMPACT_AFTER = 500;

/** Keeps the state file in step with a unit → process map, appending changes between snapshots. */
export function createStateJournal(file: string, engine: RecordedProcess) {
  const units: Record<string, RecordedProcess> = {};
  let appended = COMPACT_AFTER; // the first change writes a snapshot
  return {
    record(changes: Readonly<Record<string, RecordedProcess | null>>): void {
      const lines: JournalLine[] = [];
      for (const [unit, process] of Object.entries(changes)) {
        if (process === null) delete units[unit];
        else units[unit] = process;
        lines.push({ unit, process });
      }
      if (lines.length === 0) return;
      if (appended + lines.length > COMPACT_AFTER) {
        writeState(file, { engine, units });
        appended = 0;
        return;
      }
      fs.appendFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      appended += lines.length;
    },
  };
}

export function readState(file: string): StateFile | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // missing: nothing to recover
  }
  const [head = '', ...changes] = text.split('\n').filter(Boolean);
  try {
    const snapshot = JSON.parse(head) as StateFile;
    if (!snapshot || typeof snapshot !== 'object' || !snapshot.units) return null;
    const units: Record<string, RecordedProcess> = { ...snapshot.units };
    for (const raw of changes) {
      const change = parseLine(raw); // a torn last line (killed mid-append) is skipped
      if (change === null) continue;
      if (change.process === null) delete units[change.unit];
      else units[change.unit] = change.process;
    }
    return { engine: snapshot.engine, units };
  } catch {
    return null; // a torn snapshot cannot happen (rename); anything else is not ours
  }
}

function parseLine(raw: string): JournalLine | null {
  try {
    const line = JSON.parse(raw) as JournalLine;
    return typeof line?.unit === 'string' ? line : null;
  } catch {
    return null;
  }
}

/** The recorded group leaders that are still the same processes (same start time). */
export function survivors(state: StateFile): Array<{ unit: string; pid: number }> {
  return Object.entries(state.units).flatMap(([unit, recorded]) => {
    const stat = readStat(recorded.pid);
    const same = stat !== null && stat.startTime === recorded.startTime && stat.state !== 'Z' && stat.state !== 'X';
    return same ? [{ unit, pid: recorded.pid }] : [];
  });
}
