// depends_on in the engine: a start of a unit whose dependencies do not hold yet is held, and
// carried out the moment they do (checked once per turn after any unit changed); `down` stops
// dependents before what they depend on. A dependency that cannot come (fatal, failed) leaves its
// dependents held and says so — "blocked (db: fatal)" — and they start if it recovers. Only
// starts are held: a running service is never stopped because a dependency went away, and
// restarts by policy are not held (compose and systemd's Wants= behave alike).
import type { EventRecord } from '../api/protocol.js';
import type { Dependency, ServiceConfig } from '../config/schema.js';
import type { Loop, UnitEntry } from './loop.js';
import type { Readiness } from './probes.js';

/** Why a held start waits: for a dependency still on its way, or on one that cannot come. */
export interface Hold {
  readonly state: 'waiting' | 'blocked';
  /** "db: starting", "migrate: exited (exit-code)". */
  readonly reason: string;
}

interface Held {
  hold: Hold;
  /** The start request's answer while it has not been given: called once, when blocked. */
  blocked: ((hold: Hold) => void) | null;
  /** Carry the start out (the dependencies hold now). */
  readonly proceed: () => void;
  /** The start will not happen (a stop, a removal): its answer, if still owed. */
  readonly cancel: (why: string) => void;
}

export type Dependencies = ReturnType<typeof createDependencies>;

export function createDependencies(loop: Loop, readinessOf: (entry: UnitEntry) => Readiness) {
  const held = new Map<UnitEntry, Held>();
  let checkQueued = false;

  /** The first dependency that does not hold, and why; null when all do. */
  function holdOf(service: ServiceConfig): Hold | null {
    if (service.dependsOn.length === 0) return null;
    const byService = new Map<string, UnitEntry[]>();
    for (const entry of loop.units.values()) {
      if (!service.dependsOn.some((d) => d.service === entry.ref.service)) continue;
      const list = byService.get(entry.ref.service) ?? [];
      list.push(entry);
      byService.set(entry.ref.service, list);
    }
    for (const dependency of service.dependsOn) {
      for (const entry of byService.get(dependency.service) ?? []) {
        const hold = unitHold(dependency, entry);
        if (hold !== null) return hold;
      }
    }
    return null;
  }

  function unitHold({ condition }: Dependency, entry: UnitEntry): Hold | null {
    const { phase, lastResult } = entry.state;
    const who = loop.label(entry.ref);
    const succeeded = phase === 'exited' && lastResult === 'success';
    if (succeeded || (condition === 'started' && phase === 'running')) return null;
    if (condition === 'ready' && phase === 'running') {
      // A probe that keeps failing is "not ready", not blocked: a database may take its time.
      const readiness = readinessOf(entry);
      if (readiness === null || readiness.state === 'ready') return null;
      return { state: 'waiting', reason: `${who}: ${readiness.state === 'pending' ? 'not ready yet' : `not ready (${readiness.output})`}` };
    }
    if (phase === 'fatal') return { state: 'blocked', reason: `${who}: fatal` };
    if (phase === 'exited') return { state: 'blocked', reason: `${who}: exited (${lastResult ?? 'unknown'})` };
    if (phase === 'stopped' && !held.has(entry)) return { state: 'blocked', reason: `${who}: stopped` };
    return { state: 'waiting', reason: `${who}: ${phase === 'running' ? 'not completed' : phase === 'stopped' ? 'waiting' : phase}` };
  }

  /** Once per turn after any change: start what may start now, tell what became blocked. */
  function recheck(): void {
    checkQueued = false;
    for (const [entry, item] of [...held]) {
      if (loop.units.get(entry.ref.id) !== entry) {
        held.delete(entry);
        item.cancel('removed from the config');
        continue;
      }
      const hold = holdOf(loop.serviceOf(entry.ref));
      if (hold === null) {
        held.delete(entry);
        item.proceed();
        continue;
      }
      const newlyBlocked = hold.state === 'blocked' && (item.hold.state !== 'blocked' || item.hold.reason !== hold.reason);
      item.hold = hold;
      if (newlyBlocked) loop.recorder.record(entry.ref, loop.label(entry.ref), { kind: 'blocked', reason: hold.reason });
      if (hold.state === 'blocked' && item.blocked) {
        item.blocked(hold);
        item.blocked = null;
      }
    }
  }

  const scheduleRecheck = (): void => {
    if (checkQueued || held.size === 0) return;
    checkQueued = true;
    setImmediate(recheck);
  };

  /**
   * A dependency back from a restart (a new life that meets the condition again: spawned, or ready
   * for condition ready) restarts the running dependents that ask for it (`restart: true`).
   */
  function dependencyBack(record: EventRecord): boolean {
    const back = (record.kind === 'spawned' && record.restarts > 0) || (record.kind === 'ready' && restartedSince.delete(record.unit));
    if (!back) return false;
    for (const service of loop.config().services) {
      const wants = service.dependsOn.find((d) => d.service === record.service && d.restart && d.condition !== 'completed');
      if (!wants || (wants.condition === 'ready') !== (record.kind === 'ready')) continue;
      for (const entry of loop.units.values()) if (entry.ref.service === service.name && entry.state.phase === 'running') restart(entry);
    }
    return true;
  }
  const restartedSince = new Set<string>();
  let restart: (entry: UnitEntry) => void = () => {};
  loop.recorder.listen((record) => {
    dependencyBack(record);
    // A restarted life's first ready is a return too (condition ready).
    if (record.kind === 'spawned' && record.restarts > 0) restartedSince.add(record.unit);
  });

  return {
    /** Where a dependency's return sends its dependents' restarts (commands.ts, made after this). */
    onRestartDependent(fn: (entry: UnitEntry) => void): void {
      restart = fn;
    },

    /** Whether a start of this unit must wait now. */
    holdOf: (entry: UnitEntry): Hold | null => holdOf(loop.serviceOf(entry.ref)),

    /** Hold a start until the unit's dependencies hold; `blocked` answers it early if they cannot. */
    hold(entry: UnitEntry, item: Omit<Held, 'hold'>, hold: Hold): void {
      held.get(entry)?.cancel('superseded by a later start');
      held.set(entry, { ...item, hold });
      if (hold.state === 'blocked') loop.recorder.record(entry.ref, loop.label(entry.ref), { kind: 'blocked', reason: hold.reason });
      if (hold.state === 'blocked' && item.blocked) {
        item.blocked(hold);
        held.set(entry, { ...item, hold, blocked: null });
      }
      scheduleRecheck();
    },

    /** A stop (or removal) drops a held start. */
    release(entry: UnitEntry, why: string): boolean {
      const item = held.get(entry);
      if (!item) return false;
      held.delete(entry);
      item.cancel(why);
      return true;
    },

    /** Some unit changed: a held start may be free now. */
    changed: scheduleRecheck,

    /** The hold of a unit whose start waits, for `ps`. */
    heldOf: (entry: UnitEntry): Hold | null => held.get(entry)?.hold ?? null,

    /** Units of `names` and, first, every unit they depend on (transitively): what `start NAME` starts. */
    withDependencies(entries: readonly UnitEntry[]): UnitEntry[] {
      // The services the entries need, not the entries' own (start web.1 starts db, not web.0).
      const needed = new Set<string>();
      const visit = (name: string): void => {
        for (const { service } of loop.service(name)?.dependsOn ?? []) {
          if (needed.has(service)) continue;
          needed.add(service);
          visit(service);
        }
      };
      for (const entry of new Set(entries.map((e) => e.ref.service))) visit(entry);
      const chosen = new Set(entries);
      return [...loop.ordered().filter((e) => needed.has(e.ref.service) && !chosen.has(e)), ...entries];
    },

    /** Units that depend (transitively) on any of `entries`' services and run or wait to, besides those entries. */
    dependentsOf(entries: readonly UnitEntry[]): UnitEntry[] {
      const services = new Set(entries.map((e) => e.ref.service));
      const all = loop.config().services;
      for (let grew = true; grew; ) {
        grew = false;
        for (const service of all) {
          if (services.has(service.name) || !service.dependsOn.some((d) => services.has(d.service))) continue;
          services.add(service.name);
          grew = true;
        }
      }
      const chosen = new Set(entries);
      const active = (e: UnitEntry) => held.has(e) || ['starting', 'running', 'backoff'].includes(e.state.phase);
      return loop.ordered().filter((e) => services.has(e.ref.service) && !chosen.has(e) && active(e));
    },

    /** Services in stop order: dependents before what they depend on (layers stop together). */
    stopLayers(): string[][] {
      const services = loop.config().services;
      const left = new Set(services.map((s) => s.name));
      const layers: string[][] = [];
      while (left.size > 0) {
        // Those nothing left depends on.
        const layer = [...left].filter((name) => !services.some((s) => left.has(s.name) && s.dependsOn.some((d) => d.service === name)));
        const next = layer.length > 0 ? layer : [...left]; // a cycle cannot pass `check`; never loop on one
        for (const name of next) left.delete(name);
        layers.push(next);
      }
      return layers;
    },
  };
}
