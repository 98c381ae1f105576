// /proc readers: process state, start time, process-group membership, RSS/CPU sampling.
// Read-only and synchronous: it never signals anything and never polls on its own — callers
// decide when a scan is worth its cost (one readdir plus one small read per process).
// Liveness is judged by the state letter, because a zombie still passes kill(pid, 0).

import { readFileSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';

export interface ProcStat {
  /** R, S, D, T, t, Z, X, I... (field 3). Z and X mean dead but not yet reaped. */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
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
  const numbers = [1, 2, 11, 12, 19, 21].map((i) => Number(fields[i]));
  if (state === undefined || state === '' || numbers.some((n) => !Number.isFinite(n))) return null;
  const [ppid, pgrp, utime, stime, startTime, rssPages] = numbers as [number, number, number, number, number, number];
  return { state, ppid, pgrp, startTime, cpuTicks: utime + stime, rssPages };
}

export function readStat(pid: number): ProcStat | null {
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
function scanLive(visit: (pid: number, stat: ProcStat) => void): void {
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid); // null when it vanished between readdir and read
    if (stat !== null && isLiveState(stat.state)) visit(pid, stat);
  }
}

/** kill(-pgid, 0): ESRCH proves the group is empty without reading /proc (zombies included). */
function groupExists(pgid: number): boolean {
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

/** Live pids of the group. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  if (!groupExists(pgid)) return members;
  scanLive((pid, stat) => {
    if (stat.pgrp === pgid) members.push(pid);
  });
  return members;
}

export interface GroupSample {
  readonly members: number;
  readonly rssBytes: number;
  readonly cpuTicks: number;
}

/** Sum of RSS and CPU time over the live members of the group (for ps / max_memory). */
export function sampleGroup(pgid: number): GroupSample {
  let members = 0;
  let rssPages = 0;
  let cpuTicks = 0;
  if (groupExists(pgid)) {
    scanLive((_pid, stat) => {
      if (stat.pgrp !== pgid) return;
      members += 1;
      rssPages += stat.rssPages;
      cpuTicks += stat.cpuTicks;
    });
  }
  return { members, rssBytes: rssPages * pageSize(), cpuTicks };
}

let cachedPageSize: number | undefined;

/** The kernel's page size from AT_PAGESZ in /proc/self/auxv (Node has no sysconf); 4096 otherwise. */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  cachedPageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const read = (at: number): bigint =>
      endianness() === 'LE' ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at);
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (read(at) === 6n) cachedPageSize = Number(read(at + 8)); // AT_PAGESZ
    }
  } catch {
    // keep the default: sampling is an estimate, not a reason to fail
  }
  return cachedPageSize;
}
