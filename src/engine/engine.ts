// The imperative shell around the core: the only place where decisions meet the world. It
// feeds host events and operator commands to core/service.ts one at a time, carries out the
// effects it returns (spawn, stop a group, arm a timer, record a notice), routes output bytes
// to the log files and the observer, and keeps the set of units in step with the config.
import type { Config, ServiceConfig } from '../config/schema.js';
import type { Effect, Notice } from '../core/effects.js';
import type { StopReason, UnitEvent } from '../core/events.js';
import { initialUnitState, transition, type Phase, type Result, type UnitState } from '../core/service.js';
import type { HostEvent, HostListener, OutputStream, ProcessHost } from '../host/host.js';
import { createLocalHost } from '../host/local.js';
import { TendError } from '../errors.js';
import { assertNever } from '../lib/assert-never.js';
import { realClock, type Clock } from './clock.js';
import { createLogRouter } from './log-router.js';
import { verdict, type CommandKind, type UnitOutcome } from './outcomes.js';
import { createSampler, type Usage } from './sampler.js';
import { createTimerTable, type SavedTimer } from './timers.js';
import { labelOf, unitRefs, type UnitRef } from './units.js';

/** Output a unit's log could not take (a full disk): when it began, and the totals once writing resumed. */
export type LogLostNotice = { readonly kind: 'log-lost'; readonly lines: number; readonly bytes: number; readonly reason: string; readonly ended: boolean };

/** A notice as recorded: in the events file, on the terminal, in `tend events`. */
export type NoticeRecord = (Notice | LogLostNotice) & {
  readonly time: string;
  readonly service: string;
  readonly instance: number;
  readonly unit: string;
};

export interface UnitStatus {
  readonly unit: string;
  readonly id: string;
  readonly service: string;
  readonly instance: number;
  readonly phase: Phase;
  readonly pid: number | null;
  readonly startedAt: number | null;
  readonly restarts: number;
  readonly lastExit: UnitState['lastExit'];
  readonly lastResult: Result | null;
  /** Output lines and bytes its log could not take, since this engine started. */
  readonly lostLines: number;
  readonly lostBytes: number;
}

/** How the engine shows a unit to observers. */
export interface UnitView {
  readonly label: string;
  readonly service: string;
  readonly instance: number;
}

export interface EngineObserver {
  output(unit: UnitView, stream: OutputStream, lines: readonly Buffer[]): void;
  notice(record: NoticeRecord): void;
  /** Something went wrong that stops nothing (a log write refused): one sentence. */
  warning(text: string): void;
  /** Every unit is at rest (stopped, exited or fatal) with no process left. */
  resting?(): void;
}

export interface EngineOptions {
  readonly config: Config;
  /** Default: the in-process host. The keeper's host plugs in here. */
  readonly makeHost?: (listener: HostListener) => ProcessHost;
  readonly observer: EngineObserver;
  /** The environment services inherit before their own `env` (normally tend's). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** tend's cgroup of the project (a cgroup per unit below it): CPU and memory come from there. */
  readonly cgroupRoot?: string | null;
}

interface UnitEntry {
  readonly ref: UnitRef;
  state: UnitState;
  /** Commands waiting on this unit; each returns true once it has its answer. */
  waiters: Array<(state: UnitState) => boolean>;
}

/**
 * tend's own control variables, read by tend and never passed on to a service (a service that
 * prints its environment must not publish the API token). A service's `env` may still set them.
 */
const TEND_CONTROL_VARIABLES: ReadonlySet<string> = new Set([
  'TEND_API_TOKEN', 'TEND_FILE', 'TEND_RUNTIME_DIR', 'TEND_SYSTEMD_DIR', 'TEND_MEMORY_CHECK_MS', 'TEND_TEST_FAULT', 'TEND_TEST_ADVERTISE_PROTOCOLS',
]);

const restingPhases: ReadonlySet<Phase> = new Set(['stopped', 'exited', 'fatal']);
const USAGE_TTL_MS = 1000;
/**
 * Work on many units (start 1,000, stop them all) runs in slices of at most this long, with a
 * turn of the event loop between them: the API, the keeper's heartbeat and the services' exits
 * are served during a large start, and no slice is long even on a starved CPU.
 */
const SLICE_MS = 10;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Calls `each` on every item, yielding to the event loop every SLICE_MS; all their answers. */
async function inSlices<T, R>(items: readonly T[], each: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  let until = performance.now() + SLICE_MS;
  for (const item of items) {
    if (performance.now() >= until) {
      await nextTurn();
      until = performance.now() + SLICE_MS;
    }
    out.push(each(item));
  }
  return out;
}

export function createEngine({ config, makeHost = createLocalHost, observer, baseEnv, clock = realClock, random = Math.random, cgroupRoot = null }: EngineOptions) {
  let current = config;
  const services = new Map(config.services.map((service) => [service.name, service]));
  const units = new Map<string, UnitEntry>();
  const timers = createTimerTable(clock);
  const logs = createLogRouter({ config, clock, warn: (text) => observer.warning(text), onLoss: (unit, loss) => noteLogLoss({ type: 'log-lost', unit, ...loss }) });
  /** Lost output per unit id: the totals, and what the report of a loss still under way counted. */
  const lost = new Map<string, { lines: number; bytes: number; open: { lines: number; bytes: number } | null }>();
  const sample = createSampler(() => clock.now(), cgroupRoot);
  const restWaiters: Array<() => void> = [];
  let lastUsage: { at: number; usage: Map<string, Usage> } | null = null;
  const queue: Array<[UnitEntry, UnitEvent]> = [];
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
  const viewOf = (ref: UnitRef): UnitView => ({ label: labelOf(ref, services.get(ref.service)?.instances ?? 1), service: ref.service, instance: ref.instance });

  function addUnits(service: ServiceConfig, from = 0): UnitEntry[] {
    return unitRefs(service.name, service.instances)
      .slice(from)
      .map((ref) => {
        const entry: UnitEntry = { ref, state: initialUnitState, waiters: [] };
        units.set(ref.id, entry);
        dirtyUnits.add(ref.id);
        return entry;
      });
  }
  for (const service of config.services) addUnits(service);

  /** Events are handled one at a time, in arrival order, even when an effect causes another. */
  function dispatch(entry: UnitEntry, event: UnitEvent): void {
    queue.push([entry, event]);
    if (draining) return;
    draining = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) step(...next);
    } finally {
      draining = false;
    }
    scheduleCommit();
    if (restWaiters.length > 0 || observer.resting) scheduleRestingCheck();
  }

  /** Whether everything rests is asked once per turn, not after each of 1,000 events (each ask walks the units). */
  let restingCheckQueued = false;
  function scheduleRestingCheck(): void {
    if (restingCheckQueued) return;
    restingCheckQueued = true;
    setImmediate(() => {
      restingCheckQueued = false;
      checkResting();
    });
  }

  /**
   * One commit per turn of the event loop, with every call and state change of that turn: a
   * start of 1,000 units is a few dozen messages to the keeper, not 1,000.
   */
  function scheduleCommit(): void {
    if (commitQueued || !host.commit) return;
    commitQueued = true;
    setImmediate(commit);
  }

  function commit(): void {
    commitQueued = false;
    if (!host.commit) return;
    const unitsOut: Record<string, UnitState | null> = {};
    for (const id of dirtyUnits) unitsOut[id] = units.get(id)?.state ?? null;
    host.commit({ ...(configDirty ? { config: current } : {}), units: unitsOut, timers: timers.takeChanges() });
    dirtyUnits.clear();
    configDirty = false;
  }

  const armTimer = (entry: UnitEntry, saved: SavedTimer): void =>
    timers.arm(entry.ref.id, saved, ({ timer, generation }) => dispatch(entry, { type: 'timer-fired', timer, generation }));

  function step(entry: UnitEntry, event: UnitEvent): void {
    if (units.get(entry.ref.id) !== entry) return; // removed by a reload or scale
    const { state, effects } = transition(entry.state, event, { now: clock.now(), random: random(), spec: serviceOf(entry.ref) });
    entry.state = state;
    dirtyUnits.add(entry.ref.id);
    // Orders first, notices after: a respawn must not wait for the lines that report the crash
    // (the notices keep their own order and timestamps).
    for (const effect of effects) if (effect.type !== 'emit') perform(entry, effect);
    for (const effect of effects) if (effect.type === 'emit') perform(entry, effect);
    entry.waiters = entry.waiters.filter((answered) => !answered(state));
  }

  function perform(entry: UnitEntry, effect: Effect): void {
    const { ref } = entry;
    switch (effect.type) {
      case 'spawn': {
        const service = serviceOf(ref);
        const { file, max_size: maxSize, keep, compress = false, mode = 0o600, gid } = service.logs;
        const log = { file, maxSize, keep, compress, instance: ref.instance, mode, ...(gid === undefined ? {} : { gid }) };
        if (!host.writesLogs) logs.route(ref.id, log);
        const runAs = service.runAs === null ? {} : { runAs: { uid: service.runAs.uid, gid: service.runAs.gid, initGroups: service.runAs.known } };
        host.spawn({ unit: ref.id, argv: service.argv, cwd: service.cwd, env: envOf(service, ref), ...runAs, ...(host.writesLogs ? { log } : {}) });
        return;
      }
      case 'stop-group':
        host.stopGroup(ref.id, { signal: effect.signal as NodeJS.Signals, timeoutMs: effect.timeoutMs });
        return;
      case 'schedule':
        armTimer(entry, { timer: effect.timer, generation: effect.generation, at: effect.at });
        return;
      case 'cancel':
        timers.cancel(ref.id);
        return;
      case 'emit':
        record(ref, effect.notice);
        return;
      default:
        assertNever(effect, 'effect');
    }
  }

  /** A loss is counted when it begins and topped up to its totals when writing resumes. */
  function noteLogLoss(event: Extract<HostEvent, { type: 'log-lost' }>): void {
    const entry = units.get(event.unit);
    if (!entry) return;
    const count = lost.get(event.unit) ?? { lines: 0, bytes: 0, open: null };
    count.lines += event.lines - (count.open?.lines ?? 0);
    count.bytes += event.bytes - (count.open?.bytes ?? 0);
    count.open = event.ended ? null : { lines: event.lines, bytes: event.bytes };
    lost.set(event.unit, count);
    const { lines, bytes, reason, ended } = event;
    record(entry.ref, { kind: 'log-lost', lines, bytes, reason, ended });
  }

  function record(ref: UnitRef, notice: Notice | LogLostNotice): void {
    const view = viewOf(ref);
    const entry: NoticeRecord = { time: new Date(clock.now()).toISOString(), service: ref.service, instance: ref.instance, unit: view.label, ...notice };
    logs.recordEvent(entry);
    observer.notice(entry);
  }

  const inherited: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined && !TEND_CONTROL_VARIABLES.has(key)) inherited[key] = value;
  const envOf = (service: ServiceConfig, ref: UnitRef): Record<string, string> => ({
    ...inherited,
    // As su and systemd's User= do: the account's home and name, unless the config sets them.
    ...(service.runAs === null ? {} : { HOME: service.runAs.home, USER: service.runAs.name, LOGNAME: service.runAs.name }),
    ...service.env,
    TEND_SERVICE: service.name,
    TEND_INSTANCE: String(ref.instance),
  });

  const listener: HostListener = {
    event(hostEvent: HostEvent) {
      if (hostEvent.type === 'log-lost') return noteLogLoss(hostEvent); // from the keeper's log writer: no decision to make
      const entry = units.get(hostEvent.unit);
      if (entry) dispatch(entry, toUnitEvent(hostEvent));
    },
    output(unitId, stream, chunk) {
      const entry = units.get(unitId);
      if (entry) deliver(entry.ref, stream, logs.output(entry.ref.id, stream, chunk));
    },
    outputEnd(unitId, stream) {
      const entry = units.get(unitId);
      if (entry) deliver(entry.ref, stream, logs.end(entry.ref.id, stream));
    },
  };
  const host = makeHost(listener);

  function deliver(ref: UnitRef, stream: OutputStream, lines: readonly Buffer[]): void {
    if (lines.length > 0) observer.output(viewOf(ref), stream, lines);
  }

  function isResting(): boolean {
    for (const entry of units.values()) if (!restingPhases.has(entry.state.phase)) return false;
    return host.liveUnits().length === 0;
  }

  function checkResting(): void {
    if (!isResting()) return;
    for (const resolve of restWaiters.splice(0)) resolve();
    observer.resting?.();
  }

  /** Send a command to one unit and wait for the state that answers it. */
  function command(entry: UnitEntry, kind: CommandKind, reason: StopReason = 'operator'): Promise<UnitOutcome> {
    const generation = entry.state.generation;
    const outcome = (state: UnitState, ok: boolean, message: string): UnitOutcome => ({ unit: viewOf(entry.ref).label, phase: state.phase, pid: state.pid, ok, message });
    return new Promise((resolve) => {
      // A unit a reload or scale removed while this command waited for its turn.
      if (units.get(entry.ref.id) !== entry) return resolve(outcome(entry.state, false, 'removed from the config'));
      const event: UnitEvent =
        kind === 'start' ? { type: 'start-requested' } : kind === 'stop' ? { type: 'stop-requested', reason } : { type: 'restart-requested' };
      const before = entry.state;
      dispatch(entry, event);
      if (kind === 'start' && entry.state === before && before.phase === 'running') {
        return resolve(outcome(before, true, `already running (pid ${before.pid})`));
      }
      const answer = (state: UnitState): boolean => {
        const found = verdict(kind, state, generation);
        if (found) resolve(outcome(state, found.ok, found.message));
        return found !== null;
      };
      if (!answer(entry.state)) entry.waiters.push(answer);
    });
  }

  function stopAndRemove(entry: UnitEntry, reason: StopReason): Promise<UnitOutcome> {
    return command(entry, 'stop', reason).then((outcome) => {
      if (units.get(entry.ref.id) === entry) units.delete(entry.ref.id);
      timers.cancel(entry.ref.id);
      dirtyUnits.add(entry.ref.id);
      scheduleCommit();
      return outcome;
    });
  }

  return {
    startedAt: clock.now(),
    config: () => current,

    /**
     * Carry on from what a previous engine committed to the keeper: its unit states (same PIDs,
     * restart counts, uptimes) and pending timers. Its config came in through `config`.
     */
    restore(saved: { units?: Readonly<Record<string, unknown>>; timers?: Readonly<Record<string, unknown>> }): void {
      for (const [id, state] of Object.entries(saved.units ?? {})) {
        const at = id.lastIndexOf('.');
        const ref: UnitRef = { id, service: id.slice(0, at), instance: Number(id.slice(at + 1)) };
        if (!services.has(ref.service)) continue;
        units.set(id, { ref, state: state as UnitState, waiters: [] });
      }
      for (const [id, timer] of Object.entries(saved.timers ?? {})) {
        const entry = units.get(id);
        if (entry && timer) armTimer(entry, timer as SavedTimer);
      }
      dirtyUnits.clear();
      timers.takeChanges();
    },

    /** "web" → every instance, "web.1" → that one, [] → all. Unknown names throw, naming the first. */
    select(names: readonly string[]): UnitRef[] {
      if (names.length === 0) return [...units.values()].map((entry) => entry.ref);
      const chosen = new Map<string, UnitRef>();
      for (const name of names) {
        const matches = [...units.values()].filter((e) => e.ref.service === name || e.ref.id === name || viewOf(e.ref).label === name);
        if (matches.length === 0) throw new TendError('TEND_UNKNOWN_SERVICE', name);
        for (const match of matches) chosen.set(match.ref.id, match.ref);
      }
      return [...chosen.values()];
    },

    async run(kind: CommandKind, refs: readonly UnitRef[]): Promise<UnitOutcome[]> {
      return Promise.all(await inSlices(entriesOf(refs), (entry) => command(entry, kind)));
    },

    /** One at a time: each unit must answer before the next is touched (rolling restart). */
    async runInTurn(kind: CommandKind, refs: readonly UnitRef[]): Promise<UnitOutcome[]> {
      const outcomes: UnitOutcome[] = [];
      for (const entry of entriesOf(refs)) outcomes.push(await command(entry, kind));
      return outcomes;
    },

    signal(refs: readonly UnitRef[], signal: NodeJS.Signals): UnitOutcome[] {
      const outcomes = refs.map((ref) => {
        const state = units.get(ref.id)?.state ?? initialUnitState;
        const sent = state.pid !== null && host.signalGroup(ref.id, signal);
        return { unit: viewOf(ref).label, phase: state.phase, pid: state.pid, ok: sent, message: sent ? `sent ${signal}` : 'not running: nothing to signal' };
      });
      scheduleCommit(); // a keeper host sends held calls with the next commit
      return outcomes;
    },

    /** Add instances (started at once) or remove the highest ones (stopped, then forgotten). */
    async scale(name: string, instances: number): Promise<UnitOutcome[]> {
      const service = services.get(name);
      if (!service) throw new TendError('TEND_UNKNOWN_SERVICE', name);
      const from = service.instances;
      services.set(name, { ...service, instances });
      current = { ...current, services: current.services.map((s) => (s.name === name ? (services.get(name) as ServiceConfig) : s)) };
      configDirty = true;
      scheduleCommit();
      if (instances > from) return Promise.all(await inSlices(addUnits(services.get(name) as ServiceConfig, from), (entry) => command(entry, 'start')));
      const doomed = [...units.values()].filter((e) => e.ref.service === name && e.ref.instance >= instances);
      return Promise.all(await inSlices(doomed, (entry) => stopAndRemove(entry, 'operator')));
    },

    /**
     * Make `next` the running config. Services in `stop` are stopped and forgotten, those in
     * `start` added and started; every other service takes its new settings in place (the core
     * reads them at each transition, a spawn uses them). Restarts and scaling are the caller's.
     */
    async replaceConfig(next: Config, plan: { start: readonly string[]; stop: readonly string[] }): Promise<{ started: UnitOutcome[]; stopped: UnitOutcome[] }> {
      const removed = [...units.values()].filter((e) => plan.stop.includes(e.ref.service));
      // A removed service keeps its settings until its units are gone: they still transition.
      const stopping = Promise.all(removed.map((entry) => stopAndRemove(entry, 'reload'))).then((outcomes) => {
        for (const name of plan.stop) if (!next.services.some((s) => s.name === name)) services.delete(name);
        return outcomes;
      });
      for (const service of next.services) {
        const running = services.get(service.name);
        // Keep the running instance count: scaling is applied by the caller, unit by unit.
        services.set(service.name, running && !plan.start.includes(service.name) ? { ...service, instances: running.instances } : service);
      }
      current = { ...next, services: next.services.map((s) => services.get(s.name) ?? s) };
      configDirty = true;
      scheduleCommit();
      logs.reconfigure(next);
      const added = next.services.filter((s) => plan.start.includes(s.name)).flatMap((service) => addUnits(service));
      const [stopped, started] = await Promise.all([stopping, inSlices(added, (entry) => command(entry, 'start')).then((all) => Promise.all(all))]);
      return { started, stopped };
    },

    async shutdown(reason: StopReason = 'shutdown'): Promise<void> {
      const resting = new Promise<void>((resolve) => restWaiters.push(resolve));
      await inSlices([...units.values()], (entry) => dispatch(entry, { type: 'stop-requested', reason }));
      checkResting();
      return resting;
    },

    killNow: () => host.killAll(),

    /** The engine's memory watch feeds this; over the limit the core stops and restarts the unit. */
    checkMemory(): void {
      const limited = [...units.values()].filter((e) => e.state.phase === 'running' && serviceOf(e.ref).max_memory !== undefined);
      if (limited.length === 0) return;
      const usage = usageOf(limited);
      for (const entry of limited) {
        const limit = serviceOf(entry.ref).max_memory ?? Infinity;
        const rss = usage.get(entry.ref.id)?.rssBytes ?? 0;
        if (rss > limit) dispatch(entry, { type: 'memory-exceeded', rssBytes: rss, limitBytes: limit });
      }
    },

    /**
     * CPU% and RSS of every running unit's group, keyed by unit id. One /proc scan reads every
     * process on the machine, so answers are reused for a second: `ps` in a loop stays cheap.
     */
    usage(): Map<string, Usage> {
      const now = clock.now();
      if (!lastUsage || now - lastUsage.at >= USAGE_TTL_MS) lastUsage = { at: now, usage: usageOf([...units.values()]) };
      return lastUsage.usage;
    },

    status(): UnitStatus[] {
      const order = new Map(current.services.map((s, index) => [s.name, index]));
      const rank = (ref: UnitRef) => order.get(ref.service) ?? Number.MAX_SAFE_INTEGER;
      return [...units.values()]
        .sort((a, b) => rank(a.ref) - rank(b.ref) || a.ref.instance - b.ref.instance)
        .map(({ ref, state }) => ({
          unit: viewOf(ref).label,
          id: ref.id,
          service: ref.service,
          instance: ref.instance,
          phase: state.phase,
          pid: state.pid,
          startedAt: state.startedAt,
          restarts: state.restarts,
          lastExit: state.lastExit,
          lastResult: state.lastResult,
          lostLines: lost.get(ref.id)?.lines ?? 0,
          lostBytes: lost.get(ref.id)?.bytes ?? 0,
        }));
    },

    /** Close log and event files and cancel timers; what is not yet committed goes out first. Call after shutdown. */
    close(): void {
      if (commitQueued) commit();
      timers.cancelAll();
      logs.close();
    },
  };

  function entriesOf(refs: readonly UnitRef[]): UnitEntry[] {
    return refs.flatMap((ref) => units.get(ref.id) ?? []);
  }

  function usageOf(entries: readonly UnitEntry[]): Map<string, Usage> {
    return sample(
      entries.flatMap(({ ref, state }) => (state.pid !== null && state.startedAt !== null ? [{ id: ref.id, pid: state.pid, startedAt: state.startedAt }] : [])),
    );
  }
}

export type Engine = ReturnType<typeof createEngine>;

function toUnitEvent(event: Exclude<HostEvent, { type: 'log-lost' }>): UnitEvent {
  switch (event.type) {
    case 'spawned':
      return { type: 'spawned', pid: event.pid };
    case 'spawn-failed':
      return { type: 'spawn-failed', error: event.error };
    case 'exited':
      return { type: 'exited', pid: event.pid, code: event.code, signal: event.signal, groupEmpty: event.groupEmpty };
    case 'group-gone':
      return { type: 'group-gone', forced: event.forced };
    default:
      return assertNever(event, 'host event');
  }
}
