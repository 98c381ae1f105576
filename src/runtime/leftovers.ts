// Process groups a dead keeper or engine left behind, found through its PID journal, and ended
// before anything new starts: never two copies of a service. Nothing is signalled on the word
// of a PID alone — each group is checked against /proc in one scan just before the signals:
// - a recorded leader counts when its start time still matches; when the leader is gone, its
//   group counts while members remain that all started after it (the kernel does not hand out
//   a PID that is still some group's id, so such members are the leader's own);
// - an intent (the spawner died inside fork/exec, before it could write the PID) is matched to
//   a session leader started after the intent, whose environment names the same service and
//   instance (TEND_SERVICE, TEND_INSTANCE) and whose working directory is the unit's.
import fs from 'node:fs';
import path from 'node:path';
import { isPopulated, killCgroup, removeCgroup, signalCgroup } from '../host/cgroup.js';
import { liveGroups, scanLive, type ProcStat } from '../host/proc.js';
import { isIntent, startedAsRecorded, type StateFile } from './state-file.js';

const GRACE_MS = 5000;

export interface Leftover {
  readonly unit: string;
  /** The group's id (its leader's PID). */
  readonly pid: number;
}

export function findLeftovers(state: StateFile): Leftover[] {
  const live = new Map<number, ProcStat>();
  const oldestMember = new Map<number, number>(); // pgid → earliest start time among its members
  scanLive((pid, stat) => {
    live.set(pid, stat);
    oldestMember.set(stat.pgrp, Math.min(stat.startTime, oldestMember.get(stat.pgrp) ?? Infinity));
  });
  const found: Leftover[] = [];
  const claimed = new Set<number>();
  const intents: Array<[string, { since: number; cwd: string }]> = [];
  for (const [unit, record] of Object.entries(state.units)) {
    if (isIntent(record)) {
      intents.push([unit, record.spawning]);
      continue;
    }
    const leader = live.get(record.pid);
    const oldest = oldestMember.get(record.pid);
    const ours = leader ? startedAsRecorded(record, leader.startTime) : oldest !== undefined && oldest >= record.startTime;
    if (ours) {
      found.push({ unit, pid: record.pid });
      claimed.add(record.pid);
    }
  }
  for (const [unit, { since, cwd }] of intents) {
    const at = unit.lastIndexOf('.');
    const wanted = [`TEND_SERVICE=${unit.slice(0, at)}`, `TEND_INSTANCE=${unit.slice(at + 1)}`];
    for (const [pid, stat] of live) {
      if (claimed.has(pid) || stat.session !== pid || stat.pgrp !== pid || stat.startTime < since) continue;
      if (!hasEnvironment(pid, wanted) || !inDirectory(pid, cwd)) continue;
      found.push({ unit, pid });
      claimed.add(pid);
    }
  }
  return found;
}

/**
 * SIGTERM (and SIGCONT) every leftover group — and every process in the units' cgroups, when
 * tend had them (processes that left their group included) — then SIGKILL what is still there
 * after 5 s; emptied unit cgroups are removed.
 */
export async function endLeftovers(state: StateFile): Promise<Leftover[]> {
  const found = findLeftovers(state);
  const groups = new Set(found.map((f) => f.pid));
  const cgroups = unitCgroups(state.cgroupRoot);
  for (const pgid of groups) signal(-pgid, 'SIGTERM');
  for (const dir of cgroups) signalCgroup(dir, 'SIGTERM');
  for (const pgid of groups) signal(-pgid, 'SIGCONT');
  for (const dir of cgroups) signalCgroup(dir, 'SIGCONT');
  const deadline = Date.now() + GRACE_MS;
  const anyLeft = () => liveGroups(groups).size > 0 || cgroups.some(isPopulated);
  while (anyLeft() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pgid of liveGroups(groups)) signal(-pgid, 'SIGKILL');
  for (const dir of cgroups) killCgroup(dir);
  if (cgroups.length > 0) {
    const until = Date.now() + GRACE_MS;
    while (cgroups.some(isPopulated) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const dir of cgroups) removeCgroup(dir);
  }
  return found;
}

/** The unit cgroups below tend's cgroup of a project (none when it had none). */
function unitCgroups(root: string | undefined): string[] {
  if (root === undefined) return [];
  try {
    return fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(root, e.name));
  } catch {
    return [];
  }
}

function hasEnvironment(pid: number, wanted: readonly string[]): boolean {
  try {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    return wanted.every((entry) => environ.includes(entry));
  } catch {
    return false; // gone, or not ours to read (then it is not ours to end either)
  }
}

function inDirectory(pid: number, cwd: string): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(cwd);
  } catch {
    return false;
  }
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // ESRCH: already gone
  }
}
