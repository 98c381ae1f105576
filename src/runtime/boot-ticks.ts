// "Now" on the clock of /proc/PID/stat's start time (field 22): clock ticks since boot, from
// /proc/uptime (centiseconds, which is USER_HZ = 100 on Linux). One tick early, so a process
// started right after a reading never looks older than it. 0 where there is no /proc.
import { readFileSync } from 'node:fs';

export function bootTicks(): number {
  try {
    const seconds = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    return Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds * 100) - 1) : 0;
  } catch {
    return 0;
  }
}
