// The start limit (systemd's StartLimitBurst/IntervalSec): more than `burst` starts within
// `interval` parks the service in fatal. Start times are kept, pruned to the window.

export interface StartLimitSpec {
  readonly burst: number;
  readonly interval: number;
}

/** The start times still inside the window ending at `now`. */
export function startsInWindow(spec: StartLimitSpec, starts: readonly number[], now: number): number[] {
  return starts.filter((at) => now - at < spec.interval);
}

/** True when one more start now would exceed the burst. */
export function isStartLimitHit(spec: StartLimitSpec, starts: readonly number[], now: number): boolean {
  return startsInWindow(spec, starts, now).length >= spec.burst;
}
