// Carrying on after an engine restart under a keeper: the unit states (same PIDs, restart
// counts, uptimes) and pending timers the previous engine committed, adopted as they were.
// State from an engine that kept time on the wall clock (epoch ms) is moved to the monotonic
// clock on the way in, so an upgrade from it keeps every deadline.
import type { UnitState } from '../core/service.js';
import { toMonotonic, type Clock } from './clock.js';
import type { Loop } from './loop.js';
import type { SavedTimer } from './timers.js';
import { parseUnitId } from './unit-ids.js';

export interface SavedEngineState {
  readonly units?: Readonly<Record<string, unknown>>;
  readonly timers?: Readonly<Record<string, unknown>>;
}

export function restore(loop: Loop, clock: Clock, saved: SavedEngineState): void {
  for (const [id, value] of Object.entries(saved.units ?? {})) {
    const ref = parseUnitId(id);
    if (loop.service(ref.service) === undefined || value === null) continue;
    const state = value as UnitState;
    // An engine before the monotonic clock saved epoch ms and no startedWall.
    const startedWall = state.startedWall ?? (state.startedAt !== null && state.startedAt > 1e12 ? state.startedAt : null);
    const startedAt = state.startedAt === null ? null : toMonotonic(clock, state.startedAt);
    loop.adopt(ref, { ...state, startedAt, startedWall, starts: state.starts.map((at) => toMonotonic(clock, at)) });
  }
  for (const [id, value] of Object.entries(saved.timers ?? {})) {
    const entry = loop.units.get(id);
    const timer = value as SavedTimer | null;
    if (entry && timer) loop.armTimer(entry, { ...timer, at: toMonotonic(clock, timer.at) });
  }
  loop.forgetChanges();
}
