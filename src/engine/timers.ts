// The engine's pending timers, one per unit at most: armed from the core's `schedule` effects,
// cancelled by `cancel`, and kept as data (fire time, generation) so a new engine under a
// keeper can arm them again where the last one left off.
import type { TimerName } from '../core/inputs.js';
import type { Clock } from './clock.js';

/** A pending timer as kept across engine restarts: it fires at `at` (epoch ms) wherever the engine is. */
export interface SavedTimer {
  readonly timer: TimerName;
  readonly generation: number;
  readonly at: number;
}

export function createTimerTable(clock: Clock) {
  const cancels = new Map<string, () => void>();
  const saved = new Map<string, SavedTimer>();
  const changed = new Set<string>();

  function cancel(id: string): void {
    cancels.get(id)?.();
    cancels.delete(id);
    saved.delete(id);
    changed.add(id);
  }

  return {
    /** Arm (or re-arm) the unit's timer; `fire` runs once, after it has been forgotten. */
    arm(id: string, timer: SavedTimer, fire: (timer: SavedTimer) => void): void {
      cancel(id);
      cancels.set(
        id,
        clock.setTimer(timer.at - clock.now(), () => {
          cancel(id);
          fire(timer);
        }),
      );
      saved.set(id, timer);
      changed.add(id);
    },
    cancel,
    /** What changed since the last call: each unit's timer, or null where it has none now. */
    takeChanges(): Record<string, SavedTimer | null> {
      const out: Record<string, SavedTimer | null> = {};
      for (const id of changed) out[id] = saved.get(id) ?? null;
      changed.clear();
      return out;
    },
    cancelAll(): void {
      for (const stop of cancels.values()) stop();
      cancels.clear();
    },
  };
}
