// Process groups a dead keeper or engine left behind, found through its PID journal, and ended
// before anything new starts: never two copies of a service. Nothing is signalled on the word
// of a PID alone — each group is checked against /proc in one scan just before the signals:
// - a recorded leader counts when its start time still matches; when the leader is gone, its
//   group counts while members remain that all started after it (the kernel does not hand out
//   a PID that is still some group's id, so such members are the leader's own);
// - an intent (the spawner died inside fork/exec, before it could write the PID) is matched to
//   a session leader started after the intent (within 5 s of it), whose environment names the same
//   service and instance (TEND_SERVICE, TEND_INSTANCE) and whose working directory is the unit's.
import fs from 'node:fs';
import path from 'node:path';
import { endGroups, type Group } from '../host/end-groups.js';
import { scanLive, type ProcStat } from '../host/proc.js';
import { isIntent, startedAsRecorded, type StateFile } from './state-file.js';

export interface Leftover {
  readonly unit: string;
  /** The group's id (its leader's PID). */
  readonly pid: number;
}

/** How long after an intent its child can have been forked: 5 s (clock ticks), a starved CPU included. */
const INTENT_WINDOW_TICKS = 500;

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
      // A child of that spawn was forked right after the intent was written. A process of the
      // same unit started long after is a later spawner's — a new keeper's, while an engine whose
      // keeper died is still ending what that keeper left — and is never ours to end.
      if (stat.startTime > since + INTENT_WINDOW_TICKS) continue;
      if (!hasEnvironment(pid, wanted) || !inDirectory(pid, cwd)) continue;
      found.push({ unit, pid });
      claimed.add(pid);
    }
  }
  return found;
}

/**
 * Ends every leftover group — and every process in the units' cgroups, when tend had them
 * (processes that left their group included) — with tend's one stop sequence
 * (host/end-groups.ts: SIGTERM, SIGCONT, SIGKILL after DEFAULT_GRACE_MS); emptied unit cgroups
 * are removed.
 *
 * The cgroups are swept only by whoever holds the project (`cgroups: true`, the default: a new
 * keeper or foreground engine, before it spawns anything). An engine whose keeper died holds
 * nothing: a new keeper may already be spawning into the same unit cgroups (they are named by
 * unit), so it ends the recorded groups alone; the next holder sweeps the cgroups.
 */
export async function endLeftovers(state: StateFile, { cgroups: sweep = true } = {}): Promise<Leftover[]> {
  const found = findLeftovers(state);
  const cgroups = new Map(unitCgroups(sweep ? state.cgroupRoot : undefined).map((dir) => [path.basename(dir), dir]));
  const groups: Group[] = found.map(({ unit, pid }) => {
    const cgroup = cgroups.get(unit);
    cgroups.delete(unit);
    return { pgid: pid, cgroup };
  });
  for (const cgroup of cgroups.values()) groups.push({ pgid: undefined, cgroup });
  await endGroups(groups);
  return found;
}

/** The unit cgroups below tend's cgroup of a project (none when it had none). */
function unitCgroups(root: string | undefined): string[] {
  if (root === undefined) return [];
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(root, e.name));
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
