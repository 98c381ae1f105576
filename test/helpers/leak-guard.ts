// Records every process group and pid a test file creates; a root-level after() hook,
// registered when this module is first imported, kills whatever is still alive (by pgid/pid,
// identity checked by /proc start time) and then fails the file's run. It never judges a
// process by kill(pid, 0): PID 1 reaps slowly here, and a zombie passes that check.

import { after } from 'node:test';
import { isAlive, liveGroups, readStat } from '../../src/host/proc.js';
import { waitFor, type WaitOptions } from './wait-for.js';

/** pgid → start time of its leader when tracked (null: the leader was already gone). */
const groups = new Map<number, number | null>();
/** pid → its start time when tracked. */
const pids = new Map<number, number>();

export function trackGroup(pgid: number): void {
  if (!groups.has(pgid)) groups.set(pgid, readStat(pgid)?.startTime ?? null);
}

export function trackPid(pid: number): void {
  const stat = readStat(pid);
  if (stat !== null && !pids.has(pid)) pids.set(pid, stat.startTime);
}

/** Start time recorded for a tracked pid, so tests can tell "gone" from "recycled". */
export function trackedStartTime(pid: number): number | undefined {
  return pids.get(pid);
}

/**
 * The number still names our group: no process holds pid == pgid (our leader is gone and,
 * since the kernel does not recycle a pgid in use, no one else has it), or the one that does
 * is our leader (same start time).
 */
function isOurGroup(pgid: number): boolean {
  const recorded = groups.get(pgid);
  const holder = readStat(pgid);
  return holder === null || (recorded !== null && holder.startTime === recorded);
}

/** Tracked groups that still have a live member (one /proc scan). */
function liveTrackedGroups(): number[] {
  return [...liveGroups(new Set([...groups.keys()].filter(isOurGroup)))];
}

/** Tracked pids that are still the same live process. */
function liveTrackedPids(): number[] {
  return [...pids].filter(([pid, startTime]) => isAlive(pid, startTime)).map(([pid]) => pid);
}

/** SIGKILL a tracked group (if it is still ours) and wait until it has no live member. */
export async function endGroup(pgid: number, options: WaitOptions = {}): Promise<void> {
  trackGroup(pgid);
  if (isOurGroup(pgid)) signal(-pgid);
  await waitFor(() => !isOurGroup(pgid) || !liveGroups(new Set([pgid])).has(pgid), {
    what: `process group ${pgid} to be empty`,
    ...options,
  });
}

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // ESRCH: already gone
  }
}

function describe(pid: number): string {
  const stat = readStat(pid);
  return stat === null ? `${pid} (gone)` : `${pid} (state ${stat.state}, pgid ${stat.pgrp})`;
}

after(() => {
  const leakedGroups = liveTrackedGroups();
  const leakedPids = liveTrackedPids();
  // Kill first, so a failing file leaves nothing behind; identity was checked just above.
  for (const pgid of leakedGroups) signal(-pgid);
  for (const pid of leakedPids) if (isAlive(pid, pids.get(pid))) signal(pid);
  if (leakedGroups.length + leakedPids.length > 0) {
    throw new Error(
      `leak-guard: still alive after the tests: groups [${leakedGroups.join(', ')}], ` +
        `pids [${leakedPids.map(describe).join(', ')}] — every test must end what it starts`,
    );
  }
});
