// /metrics in the Prometheus text format (0.0.4): per instance up, ready, restarts by cause, last
// exit code, CPU seconds, memory and start time; probe checks and their durations; log lines lost;
// and tend's own engine and keeper (CPU, memory, event-loop lag). Names follow Prometheus's
// conventions (base units, _total for counters); `promtool check metrics` passes on it (a test).
// Counters count from this engine's start: a new engine is a counter reset, as Prometheus expects.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EventRecord } from '../api/protocol.js';
import { pageSize, readStat } from '../host/proc.js';
import type { Loop } from './loop.js';
import type { createProbes } from './probes.js';
import type { Family } from '../lib/prometheus.js';
import type { Usage } from './sampler.js';

const TICKS_PER_SECOND = 100;
/**
 * How often the event-loop delay is sampled: once a second, so an idle engine is not woken more
 * than that for it (a finer resolution is a timer 50 times a second, for ever).
 */
const LAG_SAMPLE_MS = 1000;

/** Why a unit's last run ended, as a restart cause: its stop's reason, else its exit's result. */
function causeOf(record: EventRecord, last: string | undefined): string | undefined {
  if (record.kind === 'stopping') return record.reason;
  if (record.kind === 'exited') return last ?? (record.result === 'exit-code' || record.result === 'signal' ? 'crash' : record.result);
  return last;
}

export function createMetrics(loop: Loop, probes: ReturnType<typeof createProbes>, usage: () => Map<string, Usage>) {
  const restarts = new Map<string, Map<string, number>>();
  const lastCause = new Map<string, string>();
  // Sampled from the first scrape on: an engine nobody scrapes is not woken for it.
  const lag = monitorEventLoopDelay({ resolution: LAG_SAMPLE_MS });
  loop.recorder.listen((record) => {
    if (record.unit === '') return;
    if (record.kind === 'spawned') {
      if (record.restarts > 0) {
        const cause = lastCause.get(record.unit) ?? 'operator';
        const byCause = restarts.get(record.unit) ?? new Map<string, number>();
        restarts.set(record.unit, byCause.set(cause, (byCause.get(cause) ?? 0) + 1));
      }
      lastCause.delete(record.unit);
      return;
    }
    const cause = causeOf(record, lastCause.get(record.unit));
    if (cause !== undefined) lastCause.set(record.unit, cause);
  });

  return {
    /** The families of the units and of this engine (and its keeper, by pid). */
    async families(keeperPid: number | null): Promise<Family[]> {
      lag.enable(); // (again: a no-op)
      const written = await loop.host.logStats();
      const units = loop.ordered();
      const used = usage();
      const each = (value: (entry: (typeof units)[number]) => number | null) =>
        units.flatMap((entry): Array<[Record<string, string>, number]> => {
          const v = value(entry);
          return v === null ? [] : [[{ service: entry.ref.service, instance: String(entry.ref.instance) }, v]];
        });
      const label = (entry: (typeof units)[number]) => ({ service: entry.ref.service, instance: String(entry.ref.instance) });
      const probeSamples = (pick: (s: { passed: number; failed: number; lastMs: number }) => Array<[Record<string, string>, number]>) =>
        units.flatMap((entry) =>
          [...probes.statsOf(entry.ref.id)].flatMap(([probe, s]) =>
            pick(s).map(([l, v]): [Record<string, string>, number] => [{ ...label(entry), probe, ...l }, v]),
          ),
        );
      const own = process.cpuUsage();
      const keeper = keeperPid === null ? null : readStat(keeperPid);
      return [
        {
          name: 'tend_unit_up',
          help: 'Whether the instance runs (1) or not (0).',
          type: 'gauge',
          samples: each((e) => (e.state.phase === 'running' ? 1 : 0)),
        },
        {
          name: 'tend_unit_ready',
          help: 'Whether the instance passes its readiness probe (1) or not (0); only instances with one.',
          type: 'gauge',
          samples: each((e) => {
            const readiness = e.state.phase === 'running' ? probes.readinessOf(e) : null;
            return readiness === null ? null : readiness.state === 'ready' ? 1 : 0;
          }),
        },
        {
          name: 'tend_unit_restarts_total',
          help: 'Restarts since this engine started, by the cause of the run that ended (crash, liveness, memory, operator, ...).',
          type: 'counter',
          samples: units.flatMap((e) =>
            [...(restarts.get(e.ref.id) ?? [])].map(([cause, n]): [Record<string, string>, number] => [{ ...label(e), cause }, n]),
          ),
        },
        {
          name: 'tend_unit_last_exit_code',
          help: "Exit code of the instance's last run (instances whose last run exited with a code).",
          type: 'gauge',
          samples: each((e) => e.state.lastExit?.code ?? null),
        },
        {
          name: 'tend_unit_cpu_seconds_total',
          help: "CPU time of the instance's process group (or cgroup).",
          type: 'counter',
          samples: each((e) => used.get(e.ref.id)?.cpuSeconds ?? null),
        },
        {
          name: 'tend_unit_memory_bytes',
          help: "Resident memory of the instance's process group (or cgroup).",
          type: 'gauge',
          samples: each((e) => used.get(e.ref.id)?.rssBytes ?? null),
        },
        {
          name: 'tend_unit_start_time_seconds',
          help: "When the instance's current or last run started, seconds since the epoch.",
          type: 'gauge',
          samples: each((e) => (e.state.startedWall === null ? null : e.state.startedWall / 1000)),
        },
        {
          name: 'tend_unit_log_lines_total',
          help: "Output lines written to the instance's log since the data plane (the keeper, or a foreground tend) started.",
          type: 'counter',
          samples: each((e) => written[e.ref.id]?.lines ?? null),
        },
        {
          name: 'tend_unit_log_bytes_total',
          help: "Output bytes written to the instance's log (each line with its newline) since the data plane started.",
          type: 'counter',
          samples: each((e) => written[e.ref.id]?.bytes ?? null),
        },
        {
          name: 'tend_unit_log_lost_lines_total',
          help: "Output lines the instance's log could not take (a full disk), since this engine started.",
          type: 'counter',
          samples: each((e) => loop.recorder.lostOf(e.ref.id).lines),
        },
        {
          name: 'tend_unit_log_lost_bytes_total',
          help: "Output bytes the instance's log could not take, since this engine started.",
          type: 'counter',
          samples: each((e) => loop.recorder.lostOf(e.ref.id).bytes),
        },
        {
          name: 'tend_probe_checks_total',
          help: 'Probe checks since this engine started, by probe and result.',
          type: 'counter',
          samples: probeSamples((s) => [
            [{ result: 'pass' }, s.passed],
            [{ result: 'fail' }, s.failed],
          ]),
        },
        {
          name: 'tend_probe_last_duration_seconds',
          help: 'How long the last check of the probe took.',
          type: 'gauge',
          samples: probeSamples((s) => [[{}, s.lastMs / 1000]]),
        },
        {
          name: 'tend_engine_cpu_seconds_total',
          help: "CPU time of tend's engine process.",
          type: 'counter',
          samples: [[{}, (own.user + own.system) / 1e6]],
        },
        {
          name: 'tend_engine_memory_bytes',
          help: "Resident memory of tend's engine process.",
          type: 'gauge',
          samples: [[{}, process.memoryUsage.rss()]],
        },
        {
          name: 'tend_engine_event_loop_lag_seconds',
          help: "The engine's event-loop delay: p99 of its samples (one a second) since the last scrape.",
          type: 'gauge',
          samples: [[{}, Math.max(0, lag.percentile(99) / 1e9)]],
        },
        {
          name: 'tend_keeper_cpu_seconds_total',
          help: "CPU time of tend's keeper process (under `tend up -d`).",
          type: 'counter',
          samples: keeper === null ? [] : [[{}, keeper.cpuTicks / TICKS_PER_SECOND]],
        },
        {
          name: 'tend_keeper_memory_bytes',
          help: "Resident memory of tend's keeper process (under `tend up -d`).",
          type: 'gauge',
          samples: keeper === null ? [] : [[{}, keeper.rssPages * pageSize()]],
        },
      ];
    },
    /** Start a new lag window (after each scrape). */
    resetLag: (): void => lag.reset(),
    close: (): void => void lag.disable(),
  };
}
