// What must survive the engine: which process groups it was running, each PID with its /proc
// start time. Written atomically (temp file + rename) when the set changes. Read back by the
// next engine of the project; a PID is trusted only if its start time still matches.
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

export function readState(file: string): StateFile | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
    return parsed && typeof parsed === 'object' && parsed.units ? parsed : null;
  } catch {
    return null; // missing or torn: nothing to recover
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
