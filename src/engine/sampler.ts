// Resource use of the running units, read only when asked (`ps`) or at a low rate when some
// service has max_memory. With a cgroup per unit (host/cgroup.ts) it comes from the cgroup —
// every process of the unit, those that left its process group included; otherwise from the
// process groups, one /proc scan for all of them. CPU% is the delta of CPU time since this
// unit's previous sample (or since its start on the first).
import { cgroupMembers, cgroupUsage } from '../host/cgroup.js';
import { pageSize, readStat, sampleGroups } from '../host/proc.js';

/** Linux reports CPU time in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

export interface Usage {
  readonly cpuPercent: number;
  readonly rssBytes: number;
  /** CPU time of the group so far (its cgroup's, or its live members'), in seconds. */
  readonly cpuSeconds: number;
}

export interface SampleTarget {
  readonly id: string;
  readonly pid: number;
  /** Epoch ms when this process started, for the first CPU% figure. */
  readonly startedAt: number;
}

/** CPU ticks and RSS of a unit's cgroup: memory.current when the memory controller is on, else its members' RSS. */
function fromCgroup(dir: string): { cpuTicks: number; rssBytes: number } | undefined {
  const usage = cgroupUsage(dir);
  if (usage === null) return undefined;
  const rssBytes = usage.memoryBytes ?? cgroupMembers(dir).reduce((sum, pid) => sum + (readStat(pid)?.rssPages ?? 0) * pageSize(), 0);
  return { cpuTicks: (usage.cpuMicros / 1e6) * TICKS_PER_SECOND, rssBytes };
}

export function createSampler(now: () => number, cgroupRoot: string | null = null) {
  const previous = new Map<string, { pid: number; at: number; ticks: number }>();

  return function sample(targets: readonly SampleTarget[]): Map<string, Usage> {
    const groups: Map<number | string, { cpuTicks: number; rssBytes: number }> =
      cgroupRoot === null
        ? sampleGroups(new Set(targets.map((t) => t.pid)))
        : new Map(
            targets.flatMap((t) => {
              const found = fromCgroup(`${cgroupRoot}/${t.id}`);
              return found === undefined ? [] : [[t.pid, found] as const];
            }),
          );
    const at = now();
    const usage = new Map<string, Usage>();
    for (const target of targets) {
      const group = groups.get(target.pid);
      if (group === undefined) continue;
      const before = previous.get(target.id);
      const since = before !== undefined && before.pid === target.pid ? before : { at: target.startedAt, ticks: 0 };
      const seconds = Math.max(0.001, (at - since.at) / 1000);
      const cpuPercent = Math.max(0, ((group.cpuTicks - since.ticks) / TICKS_PER_SECOND / seconds) * 100);
      previous.set(target.id, { pid: target.pid, at, ticks: group.cpuTicks });
      usage.set(target.id, {
        cpuPercent: Math.round(cpuPercent * 10) / 10,
        rssBytes: group.rssBytes,
        cpuSeconds: group.cpuTicks / TICKS_PER_SECOND,
      });
    }
    const sampled = new Set(targets.map((t) => t.id));
    for (const id of previous.keys()) if (!sampled.has(id)) previous.delete(id);
    return usage;
  };
}
