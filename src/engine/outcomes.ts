// What an operator command is waiting for, and how its outcome reads. A command resolves when
// the unit reaches a state that answers it: started (running or finished), failed (backoff,
// fatal, exited with a failure), or stopped. Pure functions of the unit's state.
import type { UnitState } from '../core/service.js';

export type CommandKind = 'start' | 'stop' | 'restart';

export interface UnitOutcome {
  readonly unit: string;
  readonly phase: UnitState['phase'];
  readonly pid: number | null;
  readonly ok: boolean;
  readonly message: string;
}

/** The verdict for `kind` given the state now and the generation when the command was sent; null = keep waiting. */
export function verdict(kind: CommandKind, state: UnitState, generationAtRequest: number): { ok: boolean; message: string } | null {
  if (kind === 'stop') {
    if (state.phase === 'stopped') return { ok: true, message: 'stopped' };
    if (state.phase === 'exited' || state.phase === 'fatal') return { ok: true, message: `not running (${state.phase})` };
    return null;
  }
  // start / restart: wait for a new life (a spawn after the request), then for how it went.
  if (state.generation === generationAtRequest) return null;
  switch (state.phase) {
    case 'running':
      return { ok: true, message: `${kind === 'start' ? 'started' : 'restarted'} (pid ${state.pid})` };
    case 'exited':
      return state.lastResult === 'success' ? { ok: true, message: 'ran and finished' } : { ok: false, message: `failed: ${describeEnd(state)}` };
    case 'backoff':
      return { ok: false, message: `failed: ${describeEnd(state)}; it will be retried` };
    case 'fatal':
      return { ok: false, message: `failed: ${describeEnd(state)}; start limit reached (fatal)` };
    case 'stopped':
      return { ok: false, message: 'stopped before it could start' };
    default:
      return null;
  }
}

/** "exited with code 1", "killed by SIGSEGV", "could not be spawned". */
export function describeEnd(state: UnitState): string {
  if (state.lastResult === 'spawn-failed') return 'could not be spawned';
  const exit = state.lastExit;
  if (exit === null) return state.lastResult ?? 'unknown';
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
