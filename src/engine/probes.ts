// The probes of every running instance, on the engine's clock: a new life runs its startup probe
// alone (if it has one) until that passes once, then its readiness and liveness probes — each
// checked first after its `initial_delay`, then every `period` after the last check ended, never
// two at once. Readiness turns into ready (success_threshold passes in a row) or not ready
// (failure_threshold failures in a row): an event, and a wake-up for the commands and dependents
// waiting on it. A liveness (or startup) probe that fails failure_threshold times in a row is an
// input to the core, which stops the instance and restarts it by policy (result liveness).
import type { Probe } from '../config/schema.js';
import type { Clock } from './clock.js';
import type { Loop, UnitEntry } from './loop.js';
import fs from 'node:fs';
import { type CheckResult, createLogScan, runCheck } from './probe-checks.js';

const logSize = (file: string): number => {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
};

/** What is known of an instance: no probe (null), not yet known, ready, or not ready (and why). */
export type Readiness = null | { readonly state: 'pending' | 'ready' | 'not-ready'; readonly output: string };

type Kind = 'startup' | 'readiness' | 'liveness';

interface Runner {
  readonly kind: Kind;
  successes: number;
  failures: number;
  output: string;
  cancel: () => void;
  /** When the next check of the period is due (clock ms). */
  regularAt: number;
  /** The delay of the next early try; 0 for liveness, fd, and once the probe had a verdict. */
  early: number;
  /** How long early tries have been made (the sum of their delays). */
  tried: number;
}

/**
 * A readiness or startup probe is tried early between the checks of its period until it has a
 * verdict (it passed; or, for readiness, failed failure_threshold times): every 25 ms for a
 * second, then every 250 ms — so a service that comes up in 300 ms is ready at about 300 ms,
 * not at the next check (what compose's start_interval is for, with nothing to set). An exec
 * try starts a process, so its tries space out instead: 25, 50, 100, 200 ... ms. An early try
 * counts only when it passes: failures, and so "not ready", come at the period's pace alone.
 */
const EARLY_TRY_MS = 25;
const EARLY_TRY_SLOW_MS = 250;
/** How long early tries come every EARLY_TRY_MS. */
const EARLY_FAST_MS = 1000;

interface Life {
  readonly generation: number;
  /** Size of the unit's log file when this life was spawned: a log check reads what came after. */
  readonly logFrom: number;
  /** For a life this engine did not see start (after a restart): only lines since it began count. */
  readonly logSince: string | null;
  /** The log check of this life, made at its first check. */
  logScan?: () => CheckResult;
  readiness: 'pending' | 'ready' | 'not-ready';
  readonly runners: Map<Kind, Runner>;
}

/** Checks of one probe of one instance since this engine started, for /metrics. */
export interface ProbeStats {
  passed: number;
  failed: number;
  /** How long the last check took, ms. */
  lastMs: number;
}

export function createProbes(loop: Loop, clock: Clock, readinessChanged: (entry: UnitEntry) => void) {
  const lives = new Map<UnitEntry, Life>();
  const stats = new Map<string, Map<Kind, ProbeStats>>();
  const count = (entry: UnitEntry, kind: Kind, ok: boolean, ms: number): void => {
    const byKind = stats.get(entry.ref.id) ?? new Map<Kind, ProbeStats>();
    stats.set(entry.ref.id, byKind);
    const kept = byKind.get(kind) ?? { passed: 0, failed: 0, lastMs: 0 };
    byKind.set(kind, kept);
    if (ok) kept.passed += 1;
    else kept.failed += 1;
    kept.lastMs = ms;
  };
  const probeOf = (entry: UnitEntry, kind: Kind): Probe | null => loop.service(entry.ref.service)?.[kind] ?? null;

  function end(entry: UnitEntry): void {
    for (const runner of lives.get(entry)?.runners.values() ?? []) runner.cancel();
    lives.delete(entry);
  }

  function begin(entry: UnitEntry, life: Life, kind: Kind): void {
    const probe = probeOf(entry, kind);
    if (probe === null) return;
    const early = kind === 'liveness' || probe.kind === 'fd' ? 0 : EARLY_TRY_MS;
    const runner: Runner = { kind, successes: 0, failures: 0, output: '', cancel: () => {}, regularAt: 0, early, tried: 0 };
    life.runners.set(kind, runner);
    runner.cancel = clock.setTimer(probe.initialDelay, () => void check(entry, life, runner));
  }

  /** The next check after one ended: an early try while it has no verdict and still fails, unless the period's is due first. */
  function next(entry: UnitEntry, life: Life, runner: Runner, probe: Probe, passed: boolean): void {
    if (probe.kind === 'fd') return; // not polled: the host's `notified` fact checks it again (below)
    const regularIn = runner.regularAt - clock.now();
    if (!passed && runner.early > 0 && runner.early < regularIn) {
      const delay = runner.early;
      runner.tried += delay;
      runner.early = probe.kind === 'exec' ? delay * 2 : runner.tried < EARLY_FAST_MS ? EARLY_TRY_MS : EARLY_TRY_SLOW_MS;
      runner.cancel = clock.setTimer(delay, () => void check(entry, life, runner, true));
      return;
    }
    runner.cancel = clock.setTimer(regularIn, () => void check(entry, life, runner));
  }

  async function check(entry: UnitEntry, life: Life, runner: Runner, early = false): Promise<void> {
    const service = loop.service(entry.ref.service);
    const probe = probeOf(entry, runner.kind);
    if (!service || !probe || lives.get(entry) !== life || life.runners.get(runner.kind) !== runner) return;
    let result: CheckResult;
    const began = performance.now();
    try {
      if (probe.kind === 'fd') {
        const said = entry.notified !== undefined && entry.notified === entry.state.pid;
        result = { ok: said, output: said ? `ready line on fd ${probe.fd}` : `no ready line on fd ${probe.fd} yet` };
      } else if (probe.kind === 'log') {
        life.logScan ??= createLogScan(service.logs.file, entry.ref.instance, probe.pattern, life.logFrom, life.logSince);
        result = life.logScan();
      } else result = await runCheck(probe, service, () => loop.specOf(entry).env);
    } catch (error) {
      result = { ok: false, output: error instanceof Error ? error.message : String(error) };
    }
    if (lives.get(entry) !== life || life.runners.get(runner.kind) !== runner) return; // a new life, or stopped, meanwhile
    count(entry, runner.kind, result.ok, performance.now() - began);
    if (!early) runner.regularAt = clock.now() + probe.period;
    if (early && !result.ok) return next(entry, life, runner, probe, false); // counts for nothing
    runner.output = result.output;
    runner.successes = result.ok ? runner.successes + 1 : 0;
    runner.failures = result.ok ? 0 : runner.failures + 1;
    const passed = runner.successes >= probe.successThreshold;
    const failed = runner.failures >= probe.failureThreshold;
    if (runner.kind === 'startup' && passed) {
      life.runners.delete('startup');
      begin(entry, life, 'readiness');
      begin(entry, life, 'liveness');
      return;
    }
    if (runner.kind !== 'readiness' && failed) {
      life.runners.delete(runner.kind);
      loop.dispatch(entry, { type: 'probe-failed', probe: runner.kind, output: result.output });
      return;
    }
    if (runner.kind === 'readiness') {
      const next = passed ? 'ready' : failed ? 'not-ready' : life.readiness;
      if (next !== 'pending') runner.early = 0; // a verdict: from now on the period's pace alone
      if (next !== life.readiness) {
        life.readiness = next;
        loop.recorder.record(
          entry.ref,
          loop.label(entry.ref),
          next === 'ready' ? { kind: 'ready' } : { kind: 'not-ready', output: result.output },
        );
        readinessChanged(entry);
      }
    }
    next(entry, life, runner, probe, result.ok);
  }

  loop.onNotified((entry) => {
    const life = lives.get(entry);
    const runner = life?.runners.get('readiness');
    if (life === undefined || runner === undefined || probeOf(entry, 'readiness')?.kind !== 'fd') return; // its first check will see it
    runner.cancel();
    void check(entry, life, runner);
  });

  return {
    /** After each batch of inputs: a new life starts its probes; an instance no longer running stops them. */
    sync(entries: Iterable<UnitEntry>): void {
      for (const entry of entries) {
        const { phase, generation } = entry.state;
        const service = loop.units.get(entry.ref.id) === entry ? loop.service(entry.ref.service) : undefined;
        const probed = service !== undefined && (service.startup ?? service.readiness ?? service.liveness) !== null;
        const life = lives.get(entry);
        if (phase === 'starting' && probed) {
          // Where this life's output begins in its log: spawned just now, it has written nothing yet.
          if (life?.generation !== generation) {
            end(entry);
            lives.set(entry, { generation, readiness: 'pending', runners: new Map(), logFrom: logSize(service.logs.file), logSince: null });
          }
          continue;
        }
        if (phase !== 'running' || !probed) {
          if (life) {
            end(entry);
            readinessChanged(entry);
          }
          continue;
        }
        if (life?.generation === generation && life.runners.size > 0) continue;
        // Seen starting: its log from that point. Not seen (a new engine carries on): the lines since it began.
        const seen = life?.generation === generation;
        const since = entry.state.startedWall === null ? null : new Date(entry.state.startedWall - 1000).toISOString();
        end(entry);
        const fresh: Life = {
          generation,
          readiness: 'pending',
          runners: new Map(),
          logFrom: seen ? life.logFrom : 0,
          logSince: seen ? null : since,
        };
        lives.set(entry, fresh);
        if (probeOf(entry, 'startup') !== null) begin(entry, fresh, 'startup');
        else {
          begin(entry, fresh, 'readiness');
          begin(entry, fresh, 'liveness');
        }
      }
    },

    /** Checks per probe of a unit since this engine started (none for a unit without probes). */
    statsOf: (id: string): ReadonlyMap<Kind, ProbeStats> => stats.get(id) ?? new Map(),

    readinessOf(entry: UnitEntry): Readiness {
      if (probeOf(entry, 'readiness') === null) return null;
      const life = lives.get(entry);
      return life ? { state: life.readiness, output: life.runners.get('readiness')?.output ?? '' } : { state: 'pending', output: '' };
    },

    close(): void {
      for (const entry of [...lives.keys()]) end(entry);
    },
  };
}
