// Input facts for the core, past tense: what an operator asked, what the host saw, which timer
// fired. Pure data; the engine turns host facts and operator commands into these.

/**
 * Why a stop (or the stop of a restart) was asked: an operator; tend stopping everything; a
 * reload; max_memory; the liveness probe; or, for restarts tend makes itself, cron_restart
 * (`schedule`), a change of watched files (`watch`), a dependency back from a restart (`dependency`).
 */
export type StopReason = 'operator' | 'shutdown' | 'reload' | 'memory' | 'liveness' | 'schedule' | 'watch' | 'dependency';

export type UnitInput =
  | { readonly type: 'start-requested' }
  | { readonly type: 'stop-requested'; readonly reason: StopReason }
  | { readonly type: 'restart-requested'; readonly reason?: StopReason }
  | { readonly type: 'spawned'; readonly pid: number }
  | { readonly type: 'spawn-failed'; readonly error: string }
  /** groupEmpty: the host saw no process left in the group, so there is nothing to clean up. */
  | {
      readonly type: 'exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly groupEmpty?: boolean;
    }
  | { readonly type: 'group-gone'; readonly forced: boolean }
  | { readonly type: 'timer-fired'; readonly timer: TimerName; readonly generation: number }
  /** The engine's /proc sample found the whole group above max_memory. */
  | { readonly type: 'memory-exceeded'; readonly rssBytes: number; readonly limitBytes: number }
  /** Its liveness probe (or its startup probe) failed failure_threshold times in a row. */
  | { readonly type: 'probe-failed'; readonly probe: 'liveness' | 'startup'; readonly output: string };

export type UnitInputType = UnitInput['type'];

/** Timers a unit can have pending; one of each at most. */
export type TimerName = 'backoff';

export const unitInputTypes = [
  'start-requested',
  'stop-requested',
  'restart-requested',
  'spawned',
  'spawn-failed',
  'exited',
  'group-gone',
  'timer-fired',
  'memory-exceeded',
  'probe-failed',
] as const satisfies readonly UnitInputType[];
