// The engine's orders, carried out in order but never in one long synchronous run: a spawn
// blocks the event loop until the child has exec'd (~1 ms, far more on a starved CPU), so a
// commit of 1,000 spawns done at once would freeze the keeper — its pipes, its reaping and its
// heartbeat — for seconds. Calls run in slices of at most SLICE_MS, with a turn of the event
// loop (setImmediate: pending I/O first) between slices.
import type { HostCall } from '../host/keeper-protocol.js';

const SLICE_MS = 10;

export function createCallQueue(apply: (call: HostCall) => void) {
  let queue: HostCall[] = [];
  let head = 0;
  let scheduled = false;

  function runSlice(): void {
    scheduled = false;
    const until = performance.now() + SLICE_MS;
    while (head < queue.length && performance.now() < until) {
      const call = queue[head++] as HostCall;
      apply(call);
    }
    if (head < queue.length) schedule();
    else {
      queue = [];
      head = 0;
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(runSlice);
  }

  return {
    push(calls: readonly HostCall[]): void {
      if (calls.length === 0) return;
      queue.push(...calls);
      schedule();
    },
    /** Orders not yet carried out (they are dropped: an emergency, or a stop of everything). */
    clear(): number {
      const dropped = queue.length - head;
      queue = [];
      head = 0;
      return dropped;
    },
    get size(): number {
      return queue.length - head;
    },
  };
}
