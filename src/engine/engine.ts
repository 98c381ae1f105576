// The engine of one project: the loop (loop.ts) with operator commands (commands.ts), reload
// plans (reload.ts) and resource use (usage.ts) on it, behind one interface. It runs nothing
// itself: the host it is given (always injected) spawns, signals and writes the logs.
import type { EventKind, EventRecord, ReloadResponse, UsageTick } from '../api/protocol.js';
import type { ReloadPlan } from '../config/plan.js';
import type { Config } from '../config/schema.js';
import type { StopReason } from '../core/inputs.js';
import type { HostListener, OutputStream, ProcessHost } from '../host/host.js';
import { TendError } from '../errors.js';
import { realClock, type Clock } from './clock.js';
import { createAlerts } from './alerts.js';
import { createCommands } from './commands.js';
import { createDependencies } from './dependencies.js';
import { createProbes } from './probes.js';
import { createMetrics } from './metrics.js';
import type { Family } from '../lib/prometheus.js';
import { createLoop, type UnitEntry } from './loop.js';
import type { CommandKind, UnitOutcome } from './outcomes.js';
import { applyPlan } from './reload.js';
import { createResting } from './resting.js';
import { restore, type SavedEngineState } from './restore.js';
import type { Usage } from './sampler.js';
import { inSlices } from './slices.js';
import { type UnitRef, unknownService } from './unit-ids.js';
import { createSchedules } from './schedules.js';
import { type UnitStatus, statusOf } from './status.js';
import { createUsage } from './usage.js';
import { createWatch } from './watch.js';

/** What the engine tells whoever runs it (the terminal of a foreground `tend up`, or engine.log). */
export interface EngineObserver {
  /** Complete output lines of a unit, once in its log (foreground only). */
  output(unit: { readonly label: string }, stream: OutputStream, lines: readonly Buffer[]): void;
  notice(record: EventRecord): void;
  /** Something went wrong that stops nothing (a log write refused): one sentence. */
  warning(text: string): void;
  /** Every unit is at rest (stopped, exited or fatal) with no process left. */
  resting?(): void;
}

export interface Engine {
  /** Epoch ms when this engine started. */
  readonly startedAt: number;
  /** An event about tend itself (its engine started, a reload) in the events file. */
  recordTend(what: EventKind): void;
  /** The /metrics families of the units and of this engine (and of its keeper, by pid). */
  metricFamilies(keeperPid: number | null): Promise<Family[]>;
  config(): Config;
  /** "web" → every instance, "web.1" → that one, [] → all. Unknown names throw, naming the first. */
  select(names: readonly string[]): UnitRef[];
  /** A start also starts what the units depend on, first (unless `dependencies: false`), and waits for it. */
  run(
    kind: CommandKind,
    refs: readonly UnitRef[],
    options?: { dependencies?: boolean; dependents?: 'refuse' | 'include'; wait?: boolean },
  ): Promise<UnitOutcome[]>;
  /** One at a time: each unit answers before the next is touched (rolling restart). */
  runInTurn(kind: CommandKind, refs: readonly UnitRef[]): Promise<UnitOutcome[]>;
  signal(refs: readonly UnitRef[], signal: NodeJS.Signals): UnitOutcome[];
  /** Add instances (started at once) or remove the highest ones (stopped, then forgotten). */
  scale(service: string, instances: number): Promise<UnitOutcome[]>;
  /** Carry out a reload plan (reload.ts). */
  apply(plan: ReloadPlan): Promise<ReloadResponse>;
  /** Carry on from the state a previous engine committed to the keeper. */
  restore(saved: SavedEngineState): void;
  /** Stop every unit; resolves once every group is empty. */
  shutdown(reason?: StopReason): Promise<void>;
  /** SIGKILL every group now (a second Ctrl-C, a fatal error of tend). */
  killNow(): void;
  /** CPU% and RSS per running unit id. */
  usage(): Map<string, Usage>;
  /** The usage samples kept, oldest first. */
  usageHistory(): readonly UsageTick[];
  /** `fn` gets each new usage sample (sampled every 10 s while someone listens, and 15 minutes after); returns how to stop. */
  onUsageSample(fn: (tick: UsageTick) => void): () => void;
  /** `fn` runs after any unit changed (its state, its readiness); returns how to stop. */
  onChange(fn: () => void): () => void;
  status(): UnitStatus[];
  /** Close the files and timers; what is not yet committed goes out first. Call after shutdown. */
  close(): void;
}

export interface EngineOptions {
  readonly config: Config;
  /** The data plane (host/data-plane.ts) or the keeper's side of it (host/keeper-host.ts). */
  readonly host: (listener: HostListener) => ProcessHost;
  readonly observer: EngineObserver;
  /** The environment services inherit before their own `env` (normally tend's). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** tend's cgroup of the project (a cgroup per unit below it): CPU and memory come from there. */
  readonly cgroupRoot?: string | null;
}

export function createEngine({
  config,
  host,
  observer,
  baseEnv,
  clock = realClock,
  random = Math.random,
  cgroupRoot = null,
}: EngineOptions): Engine {
  const loop = createLoop({ config, host, observer, baseEnv, clock, random });
  const rest = createResting(loop, observer);
  const changeListeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of changeListeners) listener();
  };
  const probes = createProbes(loop, clock, (entry) => {
    loop.poke(entry);
    deps.changed();
    changed();
  });
  const deps = createDependencies(loop, probes.readinessOf);
  loop.watch((entries) => {
    probes.sync(entries);
    deps.changed();
    changed();
  });
  const commands = createCommands(loop, clock, deps, probes.readinessOf);
  deps.onRestartDependent((entry) => void commands.command(entry, 'restart', 'dependency'));
  const schedules = createSchedules(loop, clock, commands);
  const alerts = createAlerts(loop, clock);
  const watch = createWatch(loop, clock, commands);
  watch.sync();
  loop.recorder.listen(alerts.observe);
  loop.watch((changed) => schedules.changed(changed));
  schedules.sync();
  const usage = createUsage(loop, clock, cgroupRoot);
  usage.watchMemory();
  const metrics = createMetrics(loop, probes, usage.usage);

  /** Stops the entries dependents first, then what they depend on, a layer at a time (units of removed services last). */
  async function inLayers(entries: readonly UnitEntry[], reason: StopReason): Promise<UnitOutcome[]> {
    const layers = deps.stopLayers();
    const placed = new Set(layers.flat());
    const outcomes = new Map<UnitEntry, UnitOutcome>();
    for (const [index, layer] of layers.entries()) {
      const last = index === layers.length - 1;
      const now = entries.filter((e) => layer.includes(e.ref.service) || (last && !placed.has(e.ref.service)));
      const answers = await Promise.all(await inSlices(now, (entry) => commands.command(entry, 'stop', reason)));
      for (const [i, entry] of now.entries()) outcomes.set(entry, answers[i] as UnitOutcome);
    }
    return entries.flatMap((entry) => outcomes.get(entry) ?? []);
  }

  /** An operator stop: refused while other running units depend on these, unless they are to stop too. */
  function stopInOrder(entries: UnitEntry[], dependents: 'refuse' | 'include'): Promise<UnitOutcome[]> {
    const needing = deps.dependentsOf(entries);
    if (needing.length > 0 && dependents === 'refuse') {
      const names = [...new Set(entries.map((e) => e.ref.service))].join(', ');
      const who = needing.map((e) => loop.label(e.ref)).join(', ');
      throw new TendError(
        'TEND_HAS_DEPENDENTS',
        `${names}: ${who} depend${needing.length === 1 ? 's' : ''} on it and run${needing.length === 1 ? 's' : ''}`,
      );
    }
    return inLayers([...needing, ...entries], 'operator');
  }

  return {
    startedAt: clock.wall(),
    recordTend: loop.recorder.recordTend,
    async metricFamilies(keeperPid) {
      const families = await metrics.families(keeperPid);
      metrics.resetLag();
      return families;
    },
    config: loop.config,

    select(names) {
      const all = loop.ordered().map((entry) => entry.ref);
      if (names.length === 0) return all;
      const chosen = new Map<string, UnitRef>();
      for (const name of names) {
        const matches = all.filter((ref) => ref.service === name || ref.id === name || loop.label(ref) === name);
        if (matches.length === 0)
          throw unknownService(
            name,
            loop.config().services.map((s) => s.name),
          );
        for (const match of matches) chosen.set(match.id, match);
      }
      return [...chosen.values()];
    },

    async run(kind, refs, { dependencies = true, dependents = 'refuse', wait = true } = {}) {
      if (kind === 'stop')
        return stopInOrder(
          refs.flatMap((ref) => loop.units.get(ref.id) ?? []),
          dependents,
        );
      if (kind !== 'start') return commands.run(kind, refs, wait);
      // What the units need starts first; everything in dependency order, so none waits on a start not yet asked.
      const entries = refs.flatMap((ref) => loop.units.get(ref.id) ?? []);
      const chosen = dependencies ? deps.withDependencies(entries) : entries;
      const rank = new Map(
        deps
          .stopLayers()
          .reverse()
          .flatMap((layer, index) => layer.map((name) => [name, index] as const)),
      );
      const ordered = [...chosen].sort((a, b) => (rank.get(a.ref.service) ?? 0) - (rank.get(b.ref.service) ?? 0));
      return commands.run(
        'start',
        ordered.map((e) => e.ref),
        wait,
      );
    },
    runInTurn: commands.runInTurn,
    signal(refs, signal) {
      const outcomes = commands.signal(refs, signal);
      loop.commitSoon();
      return outcomes;
    },
    scale: commands.scale,

    async apply(plan) {
      const answer = await applyPlan(loop, commands, plan);
      usage.watchMemory();
      schedules.sync();
      watch.sync();
      return answer;
    },

    restore(saved) {
      restore(loop, clock, saved);
      probes.sync(loop.units.values()); // a new engine goes on probing what runs
    },

    async shutdown(reason = 'shutdown') {
      const resting = rest.whenResting();
      await inLayers([...loop.units.values()], reason);
      return resting;
    },

    killNow: () => loop.host.killAll(),
    usage: usage.usage,
    usageHistory: usage.history,
    onUsageSample: usage.onTick,
    onChange(fn) {
      changeListeners.add(fn);
      return () => void changeListeners.delete(fn);
    },

    status: () => statusOf({ loop, clock, deps, probes, schedules }),

    close() {
      changeListeners.clear();
      probes.close();
      metrics.close();
      schedules.close();
      alerts.close();
      watch.close();
      usage.close();
      loop.close();
    },
  };
}
