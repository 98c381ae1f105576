// How the engine shows its units (`ps`, the API's status): the core state of each, in config
// order, with what the rooms around it know — a start held by its dependencies, the readiness
// probe's verdict, the next scheduled run, the output its log lost — and wall times for people.
import type { Phase, Result, UnitState } from '../core/service.js';
import { type Clock, wallOf } from './clock.js';
import type { Dependencies, Hold } from './dependencies.js';
import type { Loop } from './loop.js';
import type { Readiness, createProbes } from './probes.js';
import type { createSchedules } from './schedules.js';

export interface UnitStatus {
  /** The id ("web.0"). */
  readonly unit: string;
  /** How people see it: "web" while the service has one instance, else the id. */
  readonly label: string;
  readonly service: string;
  readonly instance: number;
  readonly phase: Phase;
  readonly pid: number | null;
  /** Epoch ms when the current (or last) run was spawned. */
  readonly startedAt: number | null;
  /** How long it has been up, while it runs (monotonic: a wall clock set back does not shrink it). */
  readonly uptimeMs: number | null;
  readonly restarts: number;
  readonly lastExit: UnitState['lastExit'];
  readonly lastResult: Result | null;
  /** Epoch ms of its next scheduled run or restart (null: none). */
  readonly nextRun: number | null;
  /** What its readiness probe says (null: it has none). */
  readonly readiness: Readiness;
  /** A start that waits for its dependencies, and why (null: none waits). */
  readonly waitingOn: Hold | null;
  /** Output lines and bytes its log could not take, since this engine started. */
  readonly lostLines: number;
  readonly lostBytes: number;
  /** While it stops: the signal sent, how long ago, and how long until SIGKILL (0: sent). */
  readonly stopping: { readonly signal: string; readonly sinceMs: number; readonly killInMs: number } | null;
}

export interface StatusSources {
  readonly loop: Loop;
  readonly clock: Clock;
  readonly deps: Dependencies;
  readonly probes: ReturnType<typeof createProbes>;
  readonly schedules: ReturnType<typeof createSchedules>;
}

export function statusOf({ loop, clock, deps, probes, schedules }: StatusSources): UnitStatus[] {
  const now = clock.now();
  return loop.ordered().map((entry) => {
    const { ref, state } = entry;
    const lost = loop.recorder.lostOf(ref.id);
    const up = state.startedAt !== null && (state.phase === 'running' || state.phase === 'stopping');
    return {
      unit: ref.id,
      label: loop.label(ref),
      service: ref.service,
      instance: ref.instance,
      phase: state.phase,
      pid: state.pid,
      startedAt: state.startedWall ?? (state.startedAt === null ? null : wallOf(clock, state.startedAt)),
      uptimeMs: up ? now - (state.startedAt ?? now) : null,
      restarts: state.restarts,
      lastExit: state.lastExit,
      lastResult: state.lastResult,
      waitingOn: deps.heldOf(entry),
      readiness: probes.readinessOf(entry),
      nextRun: schedules.nextRunOf(ref.service),
      lostLines: lost.lines,
      lostBytes: lost.bytes,
      stopping:
        state.phase === 'stopping' && entry.stopping !== undefined
          ? {
              signal: entry.stopping.signal,
              sinceMs: now - entry.stopping.since,
              killInMs: Math.max(0, entry.stopping.since + entry.stopping.timeoutMs - now),
            }
          : null,
    };
  });
}
