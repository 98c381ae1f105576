// /proc readers: process state, start time, process-group membership, RSS/CPU sampling.
// Read-only and synchronous: it never signals anything and never polls on its own — callers
// decide when a scan is worth its cost (one readdir plus one small read per process).
// Liveness is judged by the state letter, because a zombie still passes kill(pid, 0).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';

export interface ProcStat {
  /** R, S, D, T, t, Z, X, I... (field 3). Z and X mean dead but not yet reaped. */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Session id (field 6): a process spawned detached leads its own (sid = pgid = pid). */
  readonly session: number;
  /** Clock ticks since boot (field 22): with the pid, the identity of a process. */
  readonly startTime: number;
  /** utime + stime (fields 14 and 15), in clock ticks. */
  readonly cpuTicks: number;
  /** Resident set size in pages (field 24). */
  readonly rssPages: number;
}

/** Parses the text of /proc/PID/stat; null if it is not one. */
export function parseStat(text: string): ProcStat | null {
  // comm (field 2) is in parentheses and may itself contain spaces and ')', so the fields
  // after it start at the LAST ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' '); // fields[0] is field 3
  const state = fields[0];
  const numbers = [1, 2, 3, 11, 12, 19, 21].map((i) => Number(fields[i]));
  if (state === undefined || state === '' || numbers.some((n) => !Number.isFinite(n))) return null;
  const [ppid, pgrp, session, utime, stime, startTime, rssPages] = numbers as [number, number, number, number, number, number, number];
  return { state, ppid, pgrp, session, startTime, cpuTicks: utime + stime, rssPages };
}

export function readStat(pid: number): ProcStat | null {
  // A vanished pid is the common answer on hot paths (right after an exit): existsSync says so
  // without the cost of a thrown ENOENT.
  if (!existsSync(`/proc/${pid}`)) return null;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null; // gone (ENOENT/ESRCH) or not ours to read
  }
}

function isLiveState(state: string): boolean {
  return state !== 'Z' && state !== 'X';
}

/** The process exists and is not a zombie; with startTime, it is also the same process. */
export function isAlive(pid: number, startTime?: number): boolean {
  const stat = readStat(pid);
  if (stat === null || !isLiveState(stat.state)) return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Calls visit for every live (non-zombie) process on the machine: ONE pass over /proc. */
export function scanLive(visit: (pid: number, stat: ProcStat) => void): void {
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid); // null when it vanished between readdir and read
    if (stat !== null && isLiveState(stat.state)) visit(pid, stat);
  }
}

/** kill(-pgid, 0): ESRCH proves the group is empty without reading /proc (zombies included). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: exists, not ours
  }
}

/** The subset of pgids that still have a live member. At most one scan of /proc. */
export function liveGroups(pgids: ReadonlySet<number>): Set<number> {
  const live = new Set<number>();
  // The kill(0) pre-check settles the common case (group fully reaped) with a syscall each;
  // only groups holding zombies or live members need the scan.
  const open = new Set([...pgids].filter(groupExists));
  if (open.size === 0) return live;
  scanLive((_pid, stat) => {
    if (open.has(stat.pgrp)) live.add(stat.pgrp);
  });
  return live;
}

export interface GroupSample {
  readonly members: number;
  readonly rssBytes: number;
  readonly cpuTicks: number;
}

/**
 * RSS and CPU time summed over the live members of each group, with ONE scan of /proc for all
 * of them (for `ps` and max_memory; 200 groups must not cost 200 scans). Groups with no live
 * member are absent from the answer.
 */
export function sampleGroups(pgids: ReadonlySet<number>): Map<number, GroupSample> {
  const totals = new Map<number, { members: number; rssPages: number; cpuTicks: number }>();
  const open = new Set([...pgids].filter(groupExists));
  if (open.size > 0) {
    scanLive((_pid, stat) => {
      if (!open.has(stat.pgrp)) return;
      const total = totals.get(stat.pgrp) ?? { members: 0, rssPages: 0, cpuTicks: 0 };
      total.members += 1;
      total.rssPages += stat.rssPages;
      total.cpuTicks += stat.cpuTicks;
      totals.set(stat.pgrp, total);
    });
  }
  const page = pageSize();
  return new Map([...totals].map(([pgid, t]) => [pgid, { members: t.members, rssBytes: t.rssPages * page, cpuTicks: t.cpuTicks }]));
}

let cachedPageSize: number | undefined;

/** The kernel's page size from AT_PAGESZ in /proc/self/auxv (Node has no sysconf); 4096 otherwise. */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  cachedPageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const read = (at: number): bigint => (endianness() === 'LE' ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at));
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (read(at) === 6n) cachedPageSize = Number(read(at + 8)); // AT_PAGESZ
    }
  } catch {
    // keep the default: sampling is an estimate, not a reason to fail
  }
  return cachedPageSize;
}
