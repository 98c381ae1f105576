// The imperative shell around the core: the only place where decisions meet the world. It
// feeds host events and operator commands to core/service.ts one at a time, carries out the
// effects it returns (spawn, stop a group, arm a timer, record a notice), and routes output
// bytes to the log files and the observer. It decides nothing itself.
import type { Config } from '../config/schema.js';
import type { Effect, Notice } from '../core/effects.js';
import type { StopReason, UnitEvent } from '../core/events.js';
import { initialUnitState, transition, type Phase, type Result, type UnitState } from '../core/service.js';
import type { HostEvent, HostListener, OutputStream, ProcessHost } from '../host/host.js';
import { createLocalHost } from '../host/local.js';
import { openEventsFile } from '../logs/events-file.js';
import { openFileSink, type FileSink } from '../logs/file-sink.js';
import { createFramer, type Framer } from '../logs/framer.js';
import { assertNever } from '../lib/assert-never.js';
import { realClock, type Clock } from './clock.js';
import { unitsOf, type UnitRef } from './units.js';

/** A notice as recorded: in the events file, on the terminal, later in `tend events`. */
export type NoticeRecord = Notice & {
  readonly time: string;
  readonly service: string;
  readonly instance: number;
  readonly unit: string;
};

export interface UnitStatus {
  readonly unit: string;
  readonly service: string;
  readonly instance: number;
  readonly phase: Phase;
  readonly pid: number | null;
  readonly startedAt: number | null;
  readonly restarts: number;
  readonly lastExit: UnitState['lastExit'];
  readonly lastResult: Result | null;
}

export interface EngineObserver {
  output(unit: UnitRef, stream: OutputStream, lines: readonly Buffer[]): void;
  notice(record: NoticeRecord): void;
  /** Something went wrong that stops nothing (a log write refused): one sentence. */
  warning(text: string): void;
  /** Every unit is at rest (stopped, exited or fatal) with nothing pending. */
  resting?(): void;
}

export interface EngineOptions {
  readonly config: Config;
  /** Default: the in-process host. The keeper's host will plug in here. */
  readonly makeHost?: (listener: HostListener) => ProcessHost;
  readonly observer: EngineObserver;
  /** The environment services inherit before their own `env` (normally tend's). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export interface Engine {
  /** Start every unit (in file order; dependency order comes with depends_on). */
  startAll(): void;
  /** Stop every unit; resolves once no process of any group is left. */
  shutdown(reason?: StopReason): Promise<void>;
  /** SIGKILL every group now, without waiting (second Ctrl-C, fatal error). */
  killNow(): void;
  status(): UnitStatus[];
  /** Close log and event files. Call after shutdown. */
  close(): void;
}

const restingPhases: ReadonlySet<Phase> = new Set(['stopped', 'exited', 'fatal']);

export function createEngine({ config, makeHost = createLocalHost, observer, baseEnv, clock = realClock, random = Math.random }: EngineOptions): Engine {
  const units = config.services.flatMap(unitsOf);
  const byId = new Map(units.map((unit) => [unit.id, unit]));
  const states = new Map(units.map((unit) => [unit.id, initialUnitState]));
  const timers = new Map<string, () => void>();
  const framers = new Map<string, Framer>();
  const sinks = new Map<string, FileSink>(
    config.services.map((service) => [service.name, openFileSink({ file: service.logs.file, maxSize: service.logs.max_size, keep: service.logs.keep })]),
  );
  const events = openEventsFile(`${config.logDir}/events.jsonl`);
  const warned = new Set<string>();
  let whenResting: (() => void) | null = null;

  const queue: Array<[UnitRef, UnitEvent]> = [];
  let draining = false;

  /** Events are handled one at a time, in arrival order, even when an effect causes another. */
  function dispatch(unit: UnitRef, event: UnitEvent): void {
    queue.push([unit, event]);
    if (draining) return;
    draining = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) step(...next);
    } finally {
      draining = false;
    }
    if (isResting()) {
      whenResting?.();
      observer.resting?.();
    }
  }

  function step(unit: UnitRef, event: UnitEvent): void {
    const before = states.get(unit.id) ?? initialUnitState;
    const { state, effects } = transition(before, event, { now: clock.now(), random: random(), spec: unit.service });
    states.set(unit.id, state);
    for (const effect of effects) perform(unit, effect);
  }

  function perform(unit: UnitRef, effect: Effect): void {
    switch (effect.type) {
      case 'spawn':
        host.spawn({ unit: unit.id, argv: unit.service.argv, cwd: unit.service.cwd, env: envOf(unit) });
        return;
      case 'stop-group':
        host.stopGroup(unit.id, { signal: effect.signal as NodeJS.Signals, timeoutMs: effect.timeoutMs });
        return;
      case 'schedule': {
        timers.get(unit.id)?.();
        const fire = () => {
          timers.delete(unit.id);
          dispatch(unit, { type: 'timer-fired', timer: effect.timer, generation: effect.generation });
        };
        timers.set(unit.id, clock.setTimer(effect.at - clock.now(), fire));
        return;
      }
      case 'cancel':
        timers.get(unit.id)?.();
        timers.delete(unit.id);
        return;
      case 'emit':
        record(unit, effect.notice);
        return;
      default:
        assertNever(effect, 'effect');
    }
  }

  function record(unit: UnitRef, notice: Notice): void {
    const entry: NoticeRecord = {
      time: new Date(clock.now()).toISOString(),
      service: unit.service.name,
      instance: unit.instance,
      unit: unit.label,
      ...notice,
    };
    try {
      events.append(entry);
    } catch (error) {
      warnOnce('events', error);
    }
    observer.notice(entry);
  }

  function envOf(unit: UnitRef): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
    return { ...env, ...unit.service.env, TEND_SERVICE: unit.service.name, TEND_INSTANCE: String(unit.instance) };
  }

  function warnOnce(key: string, error: unknown): void {
    if (warned.has(key)) return;
    warned.add(key);
    observer.warning(error instanceof Error ? error.message : String(error));
  }

  function deliver(unitId: string, stream: OutputStream, lines: readonly Buffer[]): void {
    const unit = byId.get(unitId);
    if (!unit || lines.length === 0) return;
    try {
      sinks.get(unit.service.name)?.write(lines, { time: clock.now(), instance: unit.instance, stream });
    } catch (error) {
      warnOnce(`log:${unit.service.name}`, error);
    }
    observer.output(unit, stream, lines);
  }

  function framerOf(unitId: string, stream: OutputStream): Framer {
    const key = `${unitId}:${stream}`;
    let framer = framers.get(key);
    if (!framer) framers.set(key, (framer = createFramer()));
    return framer;
  }

  const listener: HostListener = {
    event(hostEvent: HostEvent) {
      const unit = byId.get(hostEvent.unit);
      if (unit) dispatch(unit, toUnitEvent(hostEvent));
    },
    output: (unitId, stream, chunk) => deliver(unitId, stream, framerOf(unitId, stream).push(chunk)),
    outputEnd: (unitId, stream) => deliver(unitId, stream, framerOf(unitId, stream).end()),
  };
  const host = makeHost(listener);

  function isResting(): boolean {
    for (const state of states.values()) if (!restingPhases.has(state.phase)) return false;
    return host.liveUnits().length === 0;
  }

  return {
    startAll() {
      for (const unit of units) dispatch(unit, { type: 'start-requested' });
    },
    shutdown(reason = 'shutdown') {
      return new Promise<void>((resolve) => {
        whenResting = resolve;
        for (const unit of units) dispatch(unit, { type: 'stop-requested', reason });
        if (isResting()) resolve();
      });
    },
    killNow: () => host.killAll(),
    status: () =>
      units.map((unit) => {
        const state = states.get(unit.id) ?? initialUnitState;
        return {
          unit: unit.label,
          service: unit.service.name,
          instance: unit.instance,
          phase: state.phase,
          pid: state.pid,
          startedAt: state.startedAt,
          restarts: state.restarts,
          lastExit: state.lastExit,
          lastResult: state.lastResult,
        };
      }),
    close() {
      for (const cancel of timers.values()) cancel();
      timers.clear();
      for (const sink of sinks.values()) sink.close();
      events.close();
    },
  };
}

function toUnitEvent(event: HostEvent): UnitEvent {
  switch (event.type) {
    case 'spawned':
      return { type: 'spawned', pid: event.pid };
    case 'spawn-failed':
      return { type: 'spawn-failed', error: event.error };
    case 'exited':
      return { type: 'exited', pid: event.pid, code: event.code, signal: event.signal };
    case 'group-gone':
      return { type: 'group-gone', forced: event.forced };
    default:
      return assertNever(event, 'host event');
  }
}
