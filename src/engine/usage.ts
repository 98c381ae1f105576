// CPU and memory of the running units: for `ps` (cached for a second: one /proc scan reads every
// process on the machine, so `ps` in a loop stays cheap) and for max_memory, checked every
// MEMORY_CHECK_MS while some service has a limit; over it, the core stops and restarts the unit.
import type { Clock } from './clock.js';
import type { Loop, UnitEntry } from './loop.js';
import { createSampler, type Usage } from './sampler.js';

const USAGE_TTL_MS = 1000;
/** How often max_memory is checked: a /proc scan costs ~1 ms per 100 processes. */
const MEMORY_CHECK_MS = Number(process.env.TEND_MEMORY_CHECK_MS) || 5000;

export function createUsage(loop: Loop, clock: Clock, cgroupRoot: string | null) {
  const sample = createSampler(() => clock.now(), cgroupRoot);
  let last: { at: number; usage: Map<string, Usage> } | null = null;
  let stopWatch: (() => void) | undefined;

  function usageOf(entries: Iterable<UnitEntry>): Map<string, Usage> {
    const targets = [];
    for (const { ref, state } of entries)
      if (state.pid !== null && state.startedAt !== null) targets.push({ id: ref.id, pid: state.pid, startedAt: state.startedAt });
    return sample(targets);
  }

  function checkMemory(): void {
    const limited = [...loop.units.values()].filter((e) => e.state.phase === 'running' && loop.serviceOf(e.ref).max_memory !== undefined);
    if (limited.length === 0) return;
    const usage = usageOf(limited);
    for (const entry of limited) {
      const limit = loop.serviceOf(entry.ref).max_memory ?? Infinity;
      const rss = usage.get(entry.ref.id)?.rssBytes ?? 0;
      if (rss > limit) loop.dispatch(entry, { type: 'memory-exceeded', rssBytes: rss, limitBytes: limit });
    }
  }

  return {
    /** CPU% and RSS of every running unit's group, keyed by unit id. */
    usage(): Map<string, Usage> {
      const now = clock.now();
      if (!last || now - last.at >= USAGE_TTL_MS) last = { at: now, usage: usageOf(loop.units.values()) };
      return last.usage;
    },

    checkMemory,

    /** (Re)arm the max_memory check for the config in force; a config without limits costs nothing. */
    watchMemory(): void {
      stopWatch?.();
      stopWatch = undefined;
      if (!loop.config().services.some((s) => s.max_memory !== undefined)) return;
      const tick = (): void => {
        checkMemory();
        stopWatch = clock.setTimer(MEMORY_CHECK_MS, tick);
      };
      stopWatch = clock.setTimer(MEMORY_CHECK_MS, tick);
    },

    close(): void {
      stopWatch?.();
      stopWatch = undefined;
    },
  };
}
