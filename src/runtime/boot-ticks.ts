// "Now" on the clock of /proc/PID/stat's start time (field 22): clock ticks since boot, from
// /proc/uptime (centiseconds, which is USER_HZ = 100 on Linux), read at most once a second and
// carried forward with the monotonic clock in between (a spawn loop must not read a file per
// spawn). 0 where there is no /proc.
import { readFileSync } from 'node:fs';

let base: { readonly ticks: number; readonly at: number } | null = null;

/** Ticks since boot, rounded down; `slack` ticks earlier (for "started at or after") or later. */
export function bootTicks(slack = 0): number {
  const now = performance.now();
  if (base === null || now - base.at > 1000) {
    try {
      base = { ticks: Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 100, at: now };
    } catch {
      return 0;
    }
    if (!Number.isFinite(base.ticks)) return 0;
  }
  return Math.max(0, Math.floor(base.ticks + (now - base.at) / 10) + slack);
}
