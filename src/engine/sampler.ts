// Resource use of the running units' process groups, read from /proc only when asked (`ps`) or
// at a low rate when some service has max_memory. One /proc scan serves every group. CPU% is
// the delta of CPU time since this unit's previous sample (or since its start on the first).
import { sampleGroups } from '../host/proc.js';

/** Linux reports CPU time in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

export interface Usage {
  readonly cpuPercent: number;
  readonly rssBytes: number;
}

export interface SampleTarget {
  readonly id: string;
  readonly pid: number;
  /** Epoch ms when this process started, for the first CPU% figure. */
  readonly startedAt: number;
}

export function createSampler(now: () => number) {
  const previous = new Map<string, { pid: number; at: number; ticks: number }>();

  return function sample(targets: readonly SampleTarget[]): Map<string, Usage> {
    const groups = sampleGroups(new Set(targets.map((t) => t.pid)));
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
      usage.set(target.id, { cpuPercent: Math.round(cpuPercent * 10) / 10, rssBytes: group.rssBytes });
    }
    const sampled = new Set(targets.map((t) => t.id));
    for (const id of previous.keys()) if (!sampled.has(id)) previous.delete(id);
    return usage;
  };
}
