// The shell's clock: the one place the engine reads time and arms timers, so the core never does.
// Policy runs on the monotonic clock — start-limit windows, backoff deadlines, uptimes — so a
// wall clock set forward or back (NTP, an operator, a VM resumed) moves no decision. On Linux it
// is CLOCK_MONOTONIC, one clock for the whole machine: a deadline the last engine saved with the
// keeper means the same instant to the next one. Wall time is for display and records only.

export interface Clock {
  /** Monotonic milliseconds (since boot on Linux): every interval, window and deadline. */
  now(): number;
  /** Epoch milliseconds: timestamps people read. */
  wall(): number;
  setTimer(delayMs: number, fire: () => void): () => void;
}

/** Node's timers take at most 2^31-1 ms; a longer delay is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Number(process.hrtime.bigint() / 1_000_000n),
  wall: () => Date.now(),
  setTimer(delayMs, fire) {
    let handle: NodeJS.Timeout;
    const until = realClock.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const left = until - realClock.now();
      handle = setTimeout(left > MAX_TIMER_MS ? arm : fire, Math.min(Math.max(0, left), MAX_TIMER_MS));
    };
    arm();
    return () => clearTimeout(handle);
  },
};

/** Epoch ms of a monotonic instant, for display: where the wall clock stood then, as far as now can tell. */
export const wallOf = (clock: Clock, monotonic: number): number => clock.wall() - (clock.now() - monotonic);

/**
 * State saved by an engine before the monotonic clock (tend ≤ 0.1 under a keeper that outlived
 * an upgrade) holds epoch ms; no machine has been up since 2001, so anything past 1e12 is one.
 */
export const toMonotonic = (clock: Clock, instant: number): number => (instant > 1e12 ? clock.now() - (clock.wall() - instant) : instant);
