// The engine's loop: the one place where decisions meet the world. It holds the table of units,
// feeds each input (host fact, operator request, timer) to core/service.ts one at a time, carries
// out the effects it returns (spawn, stop a group, arm a timer, record a notice), and once per
// turn of the event loop commits what changed to the host. Commands, reload, usage and the
// session are built on it (commands.ts, reload.ts, usage.ts, session.ts).
import type { Config, ServiceConfig } from '../config/schema.js';
import type { Effect } from '../core/effects.js';
import type { UnitInput } from '../core/inputs.js';
import { initialUnitState, transition, type UnitState } from '../core/service.js';
import type { HostFact, HostListener, ProcessHost } from '../host/host.js';
import { assertNever } from '../lib/assert-never.js';
import type { Clock } from './clock.js';
import { spawnSpecs } from './spawn-spec.js';
import type { EngineObserver } from './engine.js';
import { createRecorder } from './recorder.js';
import { createTimerTable, type SavedTimer } from './timers.js';
import { labelOf, unitRefs, type UnitRef } from './unit-ids.js';

export interface LoopOptions {
  readonly config: Config;
  /** The data plane: in this process, or the keeper's (always injected). */
  readonly host: (listener: HostListener) => ProcessHost;
  readonly observer: EngineObserver;
  /** The environment services inherit before their own `env` (normally tend's). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly random: () => number;
}

/** Someone waiting on a unit (a command): told each new state until it says it is answered. */
export interface Waiter {
  /** True once answered (then it is dropped). */
  check(state: UnitState): boolean;
  /** The unit left the table (a reload or scale removed it) before the answer came. */
  removed(state: UnitState): void;
}

export interface UnitEntry {
  readonly ref: UnitRef;
  state: UnitState;
  waiters: Waiter[];
  /** The pid that wrote its ready line on the notification fd (host fact `notified`), if any. */
  notified?: number;
  /** Why its last spawn failed ("cannot start "x": program not found"), for the start's answer. */
  spawnError?: string;
  /** While it stops: the signal sent, when (clock ms), and the grace before SIGKILL (for progress). */
  stopping?: { readonly signal: string; readonly since: number; readonly timeoutMs: number } | undefined;
}

export type Loop = ReturnType<typeof createLoop>;

export function createLoop({ config, host: makeHost, observer, baseEnv, clock, random }: LoopOptions) {
  let current = config;
  const services = new Map(config.services.map((service) => [service.name, service]));
  const units = new Map<string, UnitEntry>();
  const timers = createTimerTable(clock);
  const recorder = createRecorder({ config, clock, notice: (record) => observer.notice(record), warn: (text) => observer.warning(text) });
  const specOf = spawnSpecs(baseEnv);
  const watchers: Array<(changed: ReadonlySet<UnitEntry>) => void> = [];
  const notifiedListeners: Array<(entry: UnitEntry) => void> = [];
  /** Entries stepped in the current batch, for the watchers. */
  let stepped = new Set<UnitEntry>();
  const queue: Array<[UnitEntry, UnitInput]> = [];
  let draining = false;
  // What changed since the last commit, for a host that keeps the engine's state (the keeper).
  const dirtyUnits = new Set<string>();
  let configDirty = true;
  let commitQueued = false;

  const serviceOf = (ref: UnitRef): ServiceConfig => {
    const service = services.get(ref.service);
    if (!service) throw new Error(`engine: unit ${ref.id} has no service config`);
    return service;
  };
  const label = (ref: UnitRef): string => labelOf(ref, services.get(ref.service)?.instances ?? 1);

  /** Inputs are handled one at a time, in arrival order, even when an effect causes another. */
  function dispatch(entry: UnitEntry, input: UnitInput): void {
    queue.push([entry, input]);
    if (draining) return;
    draining = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) step(...next);
    } finally {
      draining = false;
    }
    scheduleCommit();
    const changed = stepped;
    stepped = new Set();
    for (const watcher of watchers) watcher(changed);
  }

  function step(entry: UnitEntry, input: UnitInput): void {
    if (units.get(entry.ref.id) !== entry) return; // removed by a reload or scale
    const { state, effects } = transition(entry.state, input, {
      now: clock.now(),
      wall: clock.wall(),
      random: random(),
      spec: serviceOf(entry.ref),
    });
    entry.state = state;
    if (state.phase !== 'stopping') entry.stopping = undefined;
    dirtyUnits.add(entry.ref.id);
    stepped.add(entry);
    // Orders first, notices after: a respawn must not wait for the lines that report the crash
    // (the notices keep their own order and timestamps).
    for (const effect of effects) if (effect.type !== 'emit') perform(entry, effect);
    for (const effect of effects) if (effect.type === 'emit') perform(entry, effect);
    if (entry.waiters.length > 0) entry.waiters = entry.waiters.filter((waiter) => !waiter.check(state));
  }

  function perform(entry: UnitEntry, effect: Effect): void {
    const { ref } = entry;
    switch (effect.type) {
      case 'spawn':
        host.spawn(specOf(serviceOf(ref), ref));
        return;
      case 'stop-group':
        entry.stopping ??= { signal: effect.signal, since: clock.now(), timeoutMs: effect.timeoutMs };
        host.stopGroup(ref.id, { signal: effect.signal as NodeJS.Signals, timeoutMs: effect.timeoutMs });
        return;
      case 'schedule':
        armTimer(entry, { timer: effect.timer, generation: effect.generation, at: effect.at });
        return;
      case 'cancel':
        timers.cancel(ref.id);
        return;
      case 'emit':
        recorder.record(ref, label(ref), effect.notice);
        return;
      default:
        assertNever(effect, 'effect');
    }
  }

  const armTimer = (entry: UnitEntry, saved: SavedTimer): void =>
    timers.arm(entry.ref.id, saved, ({ timer, generation }) => dispatch(entry, { type: 'timer-fired', timer, generation }));

  /**
   * One commit per turn of the event loop, with every call and state change of that turn: a
   * start of 1,000 units is a few dozen messages to the keeper.
   */
  function scheduleCommit(): void {
    if (commitQueued) return;
    commitQueued = true;
    setImmediate(commit);
  }

  function commit(): void {
    commitQueued = false;
    const changed: Record<string, UnitState | null> = {};
    for (const id of dirtyUnits) changed[id] = units.get(id)?.state ?? null;
    host.commit({ ...(configDirty ? { config: current } : {}), units: changed, timers: timers.takeChanges() });
    dirtyUnits.clear();
    configDirty = false;
  }

  const host = makeHost({
    event(fact: HostFact) {
      const entry = units.get(fact.unit);
      if (!entry) return;
      if (fact.type === 'log-lost') return recorder.recordLoss(entry.ref, label(entry.ref), fact); // no decision to make
      if (fact.type === 'spawn-failed') entry.spawnError = fact.error;
      if (fact.type === 'notified') {
        entry.notified = fact.pid; // for readiness (probes.ts), not a decision of the core
        for (const fn of notifiedListeners) fn(entry);
        return;
      }
      dispatch(entry, toUnitInput(fact));
    },
    lines(id, stream, lines) {
      const entry = units.get(id);
      if (entry) observer.output({ label: label(entry.ref) }, stream, lines);
    },
  });

  function add(service: ServiceConfig, from = 0): UnitEntry[] {
    return unitRefs(service.name, service.instances)
      .slice(from)
      .map((ref) => {
        const entry: UnitEntry = { ref, state: initialUnitState, waiters: [] };
        units.set(ref.id, entry);
        dirtyUnits.add(ref.id);
        return entry;
      });
  }
  for (const service of config.services) add(service);

  return {
    host,
    /** One sentence for whoever runs the engine (a warning that stops nothing). */
    warn: (text: string): void => observer.warning(text),
    /** `fn` runs after every batch of inputs with the units it changed (held starts and readiness follow). */
    watch: (fn: (changed: ReadonlySet<UnitEntry>) => void): void => void watchers.push(fn),
    /** `fn` runs when a unit says it is ready on its notification fd. */
    onNotified: (fn: (entry: UnitEntry) => void): void => void notifiedListeners.push(fn),
    /** Something besides the core state changed (readiness): its waiters look again. */
    poke(entry: UnitEntry): void {
      if (entry.waiters.length > 0) entry.waiters = entry.waiters.filter((waiter) => !waiter.check(entry.state));
    },
    /** What a spawn of the unit gets (an exec probe runs with the same environment). */
    specOf: (entry: UnitEntry) => specOf(serviceOf(entry.ref), entry.ref),
    /** Calls made outside a dispatch (a signal) go to a keeper with the next commit: soon. */
    commitSoon: scheduleCommit,
    units: units as ReadonlyMap<string, UnitEntry>,
    recorder,
    dispatch,
    add,
    label,
    serviceOf,
    service: (name: string): ServiceConfig | undefined => services.get(name),
    config: () => current,

    /** Forget a unit (after its stop): its timer, whoever still waited on it, and its service's settings with its last unit. */
    remove(entry: UnitEntry): void {
      if (units.get(entry.ref.id) !== entry) return;
      units.delete(entry.ref.id);
      const name = entry.ref.service;
      if (!current.services.some((s) => s.name === name) && ![...units.values()].some((e) => e.ref.service === name)) services.delete(name);
      timers.cancel(entry.ref.id);
      dirtyUnits.add(entry.ref.id);
      for (const waiter of entry.waiters.splice(0)) waiter.removed(entry.state);
      scheduleCommit();
    },

    /**
     * Make `next` the config in force, with `settings` for its services (a service's running
     * instance count may differ from next's until scaling is done). Units are the caller's; a
     * service no longer in next keeps its settings until its last unit is removed.
     */
    setConfig(next: Config, settings: readonly ServiceConfig[] = next.services): void {
      for (const service of settings) services.set(service.name, service);
      current = { ...next, services: next.services.map((s) => services.get(s.name) ?? s) };
      configDirty = true;
      recorder.reconfigure(next);
      scheduleCommit();
    },

    /** Units in config order, instances in order: how `ps` lists them. */
    ordered(): UnitEntry[] {
      const order = new Map(current.services.map((s, index) => [s.name, index]));
      const rank = (ref: UnitRef) => order.get(ref.service) ?? Number.MAX_SAFE_INTEGER;
      return [...units.values()].sort((a, b) => rank(a.ref) - rank(b.ref) || a.ref.instance - b.ref.instance);
    },

    /** A unit as a previous engine left it (restore.ts): its state, no change to commit. */
    adopt(ref: UnitRef, state: UnitState): UnitEntry {
      const entry: UnitEntry = { ref, state, waiters: [] };
      units.set(ref.id, entry);
      return entry;
    },
    armTimer,
    /** What was adopted is what the keeper already has: nothing to commit for it. */
    forgetChanges(): void {
      dirtyUnits.clear();
      timers.takeChanges();
    },

    /** Close the events file and cancel timers; what is not yet committed goes out first. Call after shutdown. */
    close(): void {
      if (commitQueued) commit();
      timers.cancelAll();
      recorder.close();
      host.close();
    },
  };
}

/** A host fact as the core's input: the same fact without the unit it is about. */
function toUnitInput({ unit: _unit, ...input }: Exclude<HostFact, { type: 'log-lost' | 'notified' }>): UnitInput {
  return input;
}
