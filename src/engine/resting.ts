// Whether every unit rests (stopped, exited or fatal) with no process left: what a shutdown waits
// for, and what ends a foreground `tend up` whose services all finished by themselves. Asked once
// per turn after changes, not after each of 1,000 events (each ask walks the units).
import type { Phase } from '../core/service.js';
import type { EngineObserver } from './engine.js';
import type { Loop } from './loop.js';

const restingPhases: ReadonlySet<Phase> = new Set(['stopped', 'exited', 'fatal']);

export function createResting(loop: Loop, observer: EngineObserver) {
  const waiters: Array<() => void> = [];
  let queued = false;

  function check(): void {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      for (const entry of loop.units.values()) if (!restingPhases.has(entry.state.phase)) return;
      if (loop.host.liveUnits().length > 0) return;
      for (const resolve of waiters.splice(0)) resolve();
      observer.resting?.();
    });
  }

  loop.watch(() => {
    if (waiters.length > 0 || observer.resting) check();
  });

  return {
    /** Resolves once every unit rests with no process left (checked now, and after each change). */
    whenResting(): Promise<void> {
      const resting = new Promise<void>((resolve) => waiters.push(resolve));
      check();
      return resting;
    },
  };
}
