// How the answer to an operator command reads (commands.ts decides when it is answered).
import type { UnitState } from '../core/service.js';

export type CommandKind = 'start' | 'stop' | 'restart';

export interface UnitOutcome {
  /** The id ("web.0") and how people see it ("web"). */
  readonly unit: string;
  readonly label: string;
  readonly phase: UnitState['phase'];
  readonly pid: number | null;
  readonly ok: boolean;
  readonly message: string;
}

/** "exited with code 1", "killed by SIGSEGV", "could not be spawned". */
export function describeEnd(state: UnitState): string {
  if (state.lastResult === 'spawn-failed') return 'could not be spawned';
  const exit = state.lastExit;
  if (exit === null) return state.lastResult ?? 'unknown';
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
