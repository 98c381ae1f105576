// CPU and memory of the running units: for `ps` (cached for a second: one /proc scan reads every
// process on the machine, so `ps` in a loop stays cheap); for max_memory, checked every
// MEMORY_CHECK_MS while some service has a limit (over it, the core stops and restarts the unit);
// and, while someone watches (a dashboard, a /v1/usage follower) and for 15 minutes after, a
// sample every HISTORY_INTERVAL_MS, the last 15 minutes of which the dashboard draws (a ring of
// HISTORY_TICKS: bounded whatever runs how long). Not always: a sample of 200 units reads ~600
// small files, which made an idle engine 35 times busier (0.6% of a core, against 0.02%).
import type { UsageTick } from '../api/protocol.js';
import type { Clock } from './clock.js';
import type { Loop, UnitEntry } from './loop.js';
import { createSampler, type Usage } from './sampler.js';

const USAGE_TTL_MS = 1000;
/** How often max_memory is checked: a /proc scan costs ~1 ms per 100 processes. */
const MEMORY_CHECK_MS = Number(process.env.TEND_MEMORY_CHECK_MS) || 5000;
/** How often the history is sampled; about 0.1 ms per running unit with cgroups (two small files). */
const HISTORY_INTERVAL_MS = Number(process.env.TEND_USAGE_INTERVAL_MS) || 10_000;
/** 15 minutes of samples at the default interval. */
const HISTORY_TICKS = 90;
/** Sampling goes on this long after the last watcher left: a page reloaded, or looked at again soon, still has its history. */
const HISTORY_LINGER_MS = HISTORY_TICKS * HISTORY_INTERVAL_MS;

export function createUsage(loop: Loop, clock: Clock, cgroupRoot: string | null) {
  const sample = createSampler(() => clock.now(), cgroupRoot);
  let last: { at: number; usage: Map<string, Usage> } | null = null;
  let stopWatch: (() => void) | undefined;
  let stopHistory: (() => void) | undefined;
  let stopLinger: (() => void) | undefined;
  const ticks: UsageTick[] = [];
  const tickListeners = new Set<(tick: UsageTick) => void>();

  // Its own sampler: a history point's CPU% is the average over its whole interval, whatever ps asked in between.
  const sampleHistory = createSampler(() => clock.now(), cgroupRoot);

  function usageOf(entries: Iterable<UnitEntry>, sampler = sample): Map<string, Usage> {
    const targets = [];
    for (const { ref, state } of entries)
      if (state.pid !== null && state.startedAt !== null) targets.push({ id: ref.id, pid: state.pid, startedAt: state.startedAt });
    return sampler(targets);
  }

  /** Samples now and every HISTORY_INTERVAL_MS; a ring older than its span is dropped first (no line across the gap). */
  function startHistory(): void {
    const newest = ticks.at(-1);
    if (newest !== undefined && clock.wall() - newest.at > HISTORY_LINGER_MS) ticks.length = 0;
    const tick = (): void => {
      const sampled: Record<string, [number, number]> = {};
      for (const [id, { cpuPercent, rssBytes }] of usageOf(loop.units.values(), sampleHistory)) sampled[id] = [cpuPercent, rssBytes];
      const entry: UsageTick = { at: clock.wall(), units: sampled };
      ticks.push(entry);
      if (ticks.length > HISTORY_TICKS) ticks.shift();
      for (const listener of tickListeners) listener(entry);
      stopHistory = clock.setTimer(HISTORY_INTERVAL_MS, tick);
    };
    // The first sample at once (a CPU% since each unit's start): the page has a point to draw.
    tick();
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

    /** The samples kept, oldest first. */
    history: (): readonly UsageTick[] => [...ticks],

    /** `fn` gets each new sample, and sampling runs while some `fn` does (and HISTORY_LINGER_MS after); returns how to stop. */
    onTick(fn: (tick: UsageTick) => void): () => void {
      tickListeners.add(fn);
      stopLinger?.();
      stopLinger = undefined;
      if (stopHistory === undefined) startHistory();
      return () => {
        if (!tickListeners.delete(fn) || tickListeners.size > 0) return;
        stopLinger?.();
        stopLinger = clock.setTimer(HISTORY_LINGER_MS, () => {
          stopLinger = undefined;
          stopHistory?.();
          stopHistory = undefined;
        });
      };
    },

    close(): void {
      stopWatch?.();
      stopWatch = undefined;
      stopHistory?.();
      stopHistory = undefined;
      stopLinger?.();
      stopLinger = undefined;
      tickListeners.clear();
    },
  };
}
