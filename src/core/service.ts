// The life of one service instance as an exhaustive table, Phase × event → handler, in the
// spirit of s6-supervise's actions[][] table: the compiler rejects a missing cell and
// "nothing to do here" is written out as `ignore`. Pure: time and randomness come in `ctx`.
import type { ServiceSpec } from '../config/schema.js';
import { failuresAfterRun, nextDelay } from './backoff.js';
import type { Effect, Notice } from './effects.js';
import type { StopReason, UnitInput, UnitInputType } from './inputs.js';
import { classifyExit, shouldRestart, type ExitCause } from './policy.js';
import { isStartLimitHit, startsInWindow } from './start-limit.js';

/** Where the unit is (state). */
export type Phase = 'stopped' | 'starting' | 'running' | 'backoff' | 'stopping' | 'exited' | 'fatal';
export const phases = ['stopped', 'starting', 'running', 'backoff', 'stopping', 'exited', 'fatal'] as const satisfies readonly Phase[];

/** Why the last run ended (result), systemd's ServiceResult. Shown beside the phase. */
export type Result = 'success' | 'exit-code' | 'signal' | 'spawn-failed' | 'stop-timeout' | 'start-limit' | 'memory' | 'liveness';

/**
 * What to do once the group is gone. `restart` is an operator restart (no backoff);
 * `respawn` is a restart by policy after `delayMs`; `rest` ends in a terminal phase.
 */
type AfterStop =
  | { readonly kind: 'stop' }
  | { readonly kind: 'restart' }
  | { readonly kind: 'respawn'; readonly delayMs: number }
  | { readonly kind: 'rest'; readonly phase: 'exited' | 'fatal' };

export interface UnitState {
  readonly phase: Phase;
  readonly pid: number | null;
  /** Bumped on every spawn and every backoff; a timer from an older generation is ignored. */
  readonly generation: number;
  /** When the current (or last) run was spawned: monotonic ms, for uptimes and policy. */
  readonly startedAt: number | null;
  /** The same instant in epoch ms, for display only (a wall clock may jump; policy never reads it). */
  readonly startedWall: number | null;
  /** Failed runs in a row, for the backoff exponent. */
  readonly failures: number;
  /** Start times inside the start-limit window. */
  readonly starts: readonly number[];
  /** Starts after the first one (by policy or by operator). */
  readonly restarts: number;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  readonly lastResult: Result | null;
  readonly afterStop: AfterStop | null;
  /** First cause wins: the reason recorded by the first stop request of this stop. */
  readonly stopReason: StopReason | 'exit' | null;
}

export interface UnitContext {
  /** Monotonic ms: every interval and deadline. */
  readonly now: number;
  /** Epoch ms, recorded for display. */
  readonly wall: number;
  /** A draw in [0, 1) for jitter. */
  readonly random: number;
  readonly spec: Pick<ServiceSpec, 'restart' | 'backoff' | 'start_limit' | 'stop'>;
}

export interface Outcome {
  readonly state: UnitState;
  readonly effects: readonly Effect[];
}

export const initialUnitState: UnitState = {
  phase: 'stopped',
  pid: null,
  generation: 0,
  startedAt: null,
  startedWall: null,
  failures: 0,
  starts: [],
  restarts: 0,
  lastExit: null,
  lastResult: null,
  afterStop: null,
  stopReason: null,
};

type Handler<E extends UnitInput = UnitInput> = (state: UnitState, event: E, ctx: UnitContext) => Outcome;
type Table = { readonly [P in Phase]: { readonly [T in UnitInputType]: Handler<Extract<UnitInput, { type: T }>> } };

const emit = (notice: Notice): Effect => ({ type: 'emit', notice });
const ignore: Handler = (state) => ({ state, effects: [] });

/** Start a process now. A start by the operator (`fresh`) forgets the failure streak and the start window. */
function spawnNow(state: UnitState, ctx: UnitContext, fresh: boolean): Outcome {
  const starts = fresh ? [] : startsInWindow(ctx.spec.start_limit, state.starts, ctx.now);
  return {
    state: {
      ...state,
      phase: 'starting',
      pid: null,
      generation: state.generation + 1,
      failures: fresh ? 0 : state.failures,
      starts: [...starts, ctx.now],
      restarts: state.startedAt === null ? state.restarts : state.restarts + 1,
      afterStop: null,
      stopReason: null,
    },
    effects: [{ type: 'spawn' }],
  };
}

const operatorStart: Handler = (state, _event, ctx) => spawnNow(state, ctx, true);

function beginStop(state: UnitState, ctx: UnitContext, afterStop: AfterStop, reason: StopReason | 'exit'): Outcome {
  const { signal, timeout } = ctx.spec.stop;
  const effects: Effect[] = [{ type: 'stop-group', signal, timeoutMs: timeout }];
  if (reason !== 'exit') effects.unshift(emit({ kind: 'stopping', signal, reason }));
  return { state: { ...state, phase: 'stopping', afterStop, stopReason: state.stopReason ?? reason }, effects };
}

const stopRequested: Handler<Extract<UnitInput, { type: 'stop-requested' }>> = (state, event, ctx) =>
  beginStop(state, ctx, { kind: 'stop' }, event.reason);

const restartRequested: Handler<Extract<UnitInput, { type: 'restart-requested' }>> = (state, event, ctx) =>
  beginStop(state, ctx, { kind: 'restart' }, event.reason ?? 'operator');

const resultOf: Record<ExitCause, Result> = {
  'clean-exit': 'success',
  'failed-exit': 'exit-code',
  'clean-signal': 'signal',
  'unclean-signal': 'signal',
  'spawn-failed': 'spawn-failed',
  memory: 'memory',
  liveness: 'liveness',
};

/** Decide what follows a run that ended by itself: respawn after a delay, fatal, or rest in exited. */
function decideAfterRun(
  state: UnitState,
  cause: ExitCause,
  uptimeMs: number,
  ctx: UnitContext,
): { state: UnitState; afterStop: AfterStop } {
  const lastResult = resultOf[cause];
  if (!shouldRestart(cause, ctx.spec.restart)) {
    return { state: { ...state, lastResult }, afterStop: { kind: 'rest', phase: 'exited' } };
  }
  if (isStartLimitHit(ctx.spec.start_limit, state.starts, ctx.now)) {
    return { state: { ...state, lastResult: 'start-limit' }, afterStop: { kind: 'rest', phase: 'fatal' } };
  }
  const failures = failuresAfterRun(ctx.spec.backoff, state.failures, uptimeMs);
  const delayMs = nextDelay(ctx.spec.backoff, failures, ctx.random);
  return { state: { ...state, lastResult, failures }, afterStop: { kind: 'respawn', delayMs } };
}

/** The leader exited by itself: record it, decide, and clean up whatever it left in its group. */
const exitedWhileUp: Handler<Extract<UnitInput, { type: 'exited' }>> = (state, event, ctx) => {
  if (event.pid !== state.pid) return ignore(state, event, ctx);
  const uptimeMs = state.startedAt === null ? 0 : ctx.now - state.startedAt;
  const cause = classifyExit(event.code, event.signal);
  const decided = decideAfterRun({ ...state, lastExit: { code: event.code, signal: event.signal } }, cause, uptimeMs, ctx);
  const notice = emit({
    kind: 'exited',
    pid: event.pid,
    code: event.code,
    signal: event.signal,
    result: decided.state.lastResult ?? 'success',
    uptimeMs,
  });
  if (event.groupEmpty) {
    // Nothing left in the group: carry out the decision now (the fast path of a crash loop).
    const next = finishStop({ ...decided.state, afterStop: decided.afterStop, stopReason: 'exit' }, ctx, false);
    return { state: next.state, effects: [notice, ...next.effects] };
  }
  const stop = beginStop(decided.state, ctx, decided.afterStop, 'exit');
  return { state: stop.state, effects: [notice, ...stop.effects] };
};

/**
 * Over max_memory: stop the group now (stop signal, then SIGKILL) and, once it is gone, do what
 * the restart policy says for a "memory" failure. Recorded as the reason before the signal.
 */
const memoryExceeded: Handler<Extract<UnitInput, { type: 'memory-exceeded' }>> = (state, event, ctx) => {
  const uptimeMs = state.startedAt === null ? 0 : ctx.now - state.startedAt;
  const decided = decideAfterRun(state, 'memory', uptimeMs, ctx);
  const stop = beginStop(decided.state, ctx, decided.afterStop, 'memory');
  return {
    state: stop.state,
    effects: [emit({ kind: 'memory-exceeded', rssBytes: event.rssBytes, limitBytes: event.limitBytes }), ...stop.effects],
  };
};

/**
 * Its liveness (or startup) probe kept failing: stop the group now and, once it is gone, do what
 * the restart policy says for a "liveness" failure (Kubernetes restarts such a container).
 */
const probeFailed: Handler<Extract<UnitInput, { type: 'probe-failed' }>> = (state, event, ctx) => {
  const uptimeMs = state.startedAt === null ? 0 : ctx.now - state.startedAt;
  const decided = decideAfterRun(state, 'liveness', uptimeMs, ctx);
  const stop = beginStop(decided.state, ctx, decided.afterStop, 'liveness');
  return { state: stop.state, effects: [emit({ kind: 'probe-failed', probe: event.probe, output: event.output }), ...stop.effects] };
};

const spawnFailed: Handler<Extract<UnitInput, { type: 'spawn-failed' }>> = (state, event, ctx) => {
  const decided = decideAfterRun(state, 'spawn-failed', 0, ctx);
  const outcome = finishStop({ ...decided.state, afterStop: decided.afterStop }, ctx, false);
  return { state: outcome.state, effects: [emit({ kind: 'spawn-failed', error: event.error }), ...outcome.effects] };
};

/** The group is empty: carry out what was decided when the stop began. */
function finishStop(state: UnitState, ctx: UnitContext, forced: boolean): Outcome {
  const after = state.afterStop ?? { kind: 'stop' };
  const settled: UnitState = { ...state, pid: null, afterStop: null, stopReason: null };
  switch (after.kind) {
    case 'stop': {
      // A stop asked by an operator ends in success unless SIGKILL was needed; a stop that
      // began as the cleanup after a crash (or for max_memory) keeps that result.
      const keepsResult = state.stopReason === 'exit' || state.stopReason === 'memory' || state.stopReason === 'liveness';
      const lastResult = forced ? 'stop-timeout' : keepsResult ? settled.lastResult : 'success';
      return { state: { ...settled, phase: 'stopped', lastResult }, effects: [emit({ kind: 'stopped', forced })] };
    }
    case 'restart':
      return spawnNow(settled, ctx, true);
    case 'respawn': {
      const notice = emit({ kind: 'restarting', delayMs: after.delayMs, attempt: settled.failures });
      if (after.delayMs <= 0) {
        const spawned = spawnNow(settled, ctx, false);
        return { state: spawned.state, effects: [notice, ...spawned.effects] };
      }
      const generation = settled.generation + 1;
      return {
        state: { ...settled, phase: 'backoff', generation },
        effects: [notice, { type: 'schedule', timer: 'backoff', generation, at: ctx.now + after.delayMs }],
      };
    }
    case 'rest': {
      const notice: Notice =
        after.phase === 'fatal'
          ? { kind: 'fatal', starts: settled.starts.length, intervalMs: ctx.spec.start_limit.interval }
          : { kind: 'completed', result: settled.lastResult ?? 'success' };
      return { state: { ...settled, phase: after.phase }, effects: [emit(notice)] };
    }
  }
}

const table: Table = {
  stopped: {
    'start-requested': operatorStart,
    'stop-requested': ignore,
    'restart-requested': operatorStart,
    spawned: ignore,
    'spawn-failed': ignore,
    exited: ignore,
    'group-gone': ignore,
    'timer-fired': ignore,
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
  starting: {
    'start-requested': ignore,
    'stop-requested': stopRequested,
    'restart-requested': restartRequested,
    spawned: (state, event, ctx) => ({
      state: { ...state, phase: 'running', pid: event.pid, startedAt: ctx.now, startedWall: ctx.wall },
      effects: [emit({ kind: 'spawned', pid: event.pid, restarts: state.restarts })],
    }),
    'spawn-failed': spawnFailed,
    // The host reports spawned before any exit of the process, so no exit can name our pid yet.
    exited: ignore,
    'group-gone': ignore,
    'timer-fired': ignore,
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
  running: {
    'start-requested': ignore,
    'stop-requested': stopRequested,
    'restart-requested': restartRequested,
    spawned: ignore,
    'spawn-failed': ignore,
    exited: exitedWhileUp,
    'group-gone': ignore,
    'timer-fired': ignore,
    'memory-exceeded': memoryExceeded,
    'probe-failed': probeFailed,
  },
  stopping: {
    // A start or restart while stopping is queued: it runs once the group is gone.
    'start-requested': (state) => ({ state: { ...state, afterStop: { kind: 'restart' } }, effects: [] }),
    // An operator stop overrides a pending respawn; the first recorded reason stays.
    'stop-requested': (state, event) => ({
      state: { ...state, afterStop: { kind: 'stop' }, stopReason: state.stopReason ?? event.reason },
      effects: [],
    }),
    'restart-requested': (state) => ({ state: { ...state, afterStop: { kind: 'restart' } }, effects: [] }),
    // Spawned late (stop was asked while starting): remember the pid so its exit is recognised.
    spawned: (state, event, ctx) => ({ state: { ...state, pid: event.pid, startedAt: ctx.now, startedWall: ctx.wall }, effects: [] }),
    'spawn-failed': (state, event) => ({
      state: { ...state, lastResult: 'spawn-failed' },
      effects: [emit({ kind: 'spawn-failed', error: event.error })],
    }),
    exited: (state, event, ctx) => {
      if (event.pid !== state.pid) return ignore(state, event, ctx);
      const uptimeMs = state.startedAt === null ? 0 : ctx.now - state.startedAt;
      const result = resultOf[classifyExit(event.code, event.signal)];
      return {
        state: { ...state, lastExit: { code: event.code, signal: event.signal } },
        effects: [emit({ kind: 'exited', pid: event.pid, code: event.code, signal: event.signal, result, uptimeMs })],
      };
    },
    'group-gone': (state, event, ctx) => finishStop(state, ctx, event.forced),
    'timer-fired': ignore,
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
  backoff: {
    'start-requested': operatorStart,
    'stop-requested': (state) => ({
      state: { ...state, phase: 'stopped' },
      effects: [{ type: 'cancel', timer: 'backoff' }, emit({ kind: 'stopped', forced: false })],
    }),
    'restart-requested': (state, _event, ctx) => {
      const started = spawnNow(state, ctx, true);
      return { state: started.state, effects: [{ type: 'cancel', timer: 'backoff' }, ...started.effects] };
    },
    spawned: ignore,
    'spawn-failed': ignore,
    exited: ignore,
    'group-gone': ignore,
    'timer-fired': (state, event, ctx) => (event.generation === state.generation ? spawnNow(state, ctx, false) : ignore(state, event, ctx)),
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
  exited: {
    'start-requested': operatorStart,
    'stop-requested': ignore,
    'restart-requested': operatorStart,
    spawned: ignore,
    'spawn-failed': ignore,
    exited: ignore,
    'group-gone': ignore,
    'timer-fired': ignore,
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
  fatal: {
    'start-requested': operatorStart,
    'stop-requested': (state) => ({ state: { ...state, phase: 'stopped' }, effects: [] }),
    'restart-requested': operatorStart,
    spawned: ignore,
    'spawn-failed': ignore,
    exited: ignore,
    'group-gone': ignore,
    'timer-fired': ignore,
    'memory-exceeded': ignore,
    'probe-failed': ignore,
  },
};

/** The core's entry point for one unit: (state, event, ctx) → { state, effects }. Runs nothing. */
export function transition(state: UnitState, event: UnitInput, ctx: UnitContext): Outcome {
  const handler = table[state.phase][event.type] as Handler;
  return handler(state, event, ctx);
}
