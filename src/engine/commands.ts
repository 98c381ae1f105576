// Operator commands on units (start, stop, restart, signal, scale) and their answers. A command
// is one input to the unit's core, then a waiter that answers from the states that follow.
// Every command gets an answer:
// - when the unit settles (leaves starting/stopping), with what happened — also when a later
//   command changed the course ("superseded by a later restart"): first cause wins in the core,
//   and each request hears how its unit ended up;
// - when a reload or scale removes the unit;
// - at the latest after its stop timeout plus ANSWER_BACKSTOP_MS, saying it is still under way.
import type { ServiceConfig } from '../config/schema.js';
import type { StopReason, UnitInput } from '../core/inputs.js';
import type { UnitState } from '../core/service.js';
import { readLastLines } from '../logs/follow.js';
import { describeEnd, type CommandKind, type UnitOutcome } from './outcomes.js';
import type { Clock } from './clock.js';
import type { Dependencies } from './dependencies.js';
import type { Readiness } from './probes.js';
import type { Loop, UnitEntry, Waiter } from './loop.js';
import { inSlices } from './slices.js';
import { type UnitRef, unknownService } from './unit-ids.js';

const ANSWER_BACKSTOP_MS = 5 * 60_000;

const isSettled = (state: UnitState): boolean => state.phase !== 'starting' && state.phase !== 'stopping';

export type Commands = ReturnType<typeof createCommands>;

export function createCommands(loop: Loop, clock: Clock, deps: Dependencies, readinessOf: (entry: UnitEntry) => Readiness) {
  /** The last command each unit was sent, to name what superseded an earlier one. */
  const latest = new WeakMap<UnitEntry, CommandKind>();

  /** `wait: false`: a start answers at its spawn (not after min_uptime, its readiness, or a job's result). */
  function command(entry: UnitEntry, kind: CommandKind, reason: StopReason = 'operator', wait = true): Promise<UnitOutcome> {
    return new Promise((resolve) => {
      const answer = (state: UnitState, ok: boolean, message: string) =>
        resolve({ unit: entry.ref.id, label: loop.label(entry.ref), phase: state.phase, pid: state.pid, ok, message });
      // A unit a reload or scale removed while this command waited for its turn.
      if (loop.units.get(entry.ref.id) !== entry) return answer(entry.state, false, 'removed from the config');
      latest.set(entry, kind);
      // A start waiting for its dependencies is dropped by whatever comes next.
      const dropped = deps.release(entry, kind === 'stop' ? 'superseded by a later stop: stopped' : `superseded by a later ${kind}`);
      if (kind === 'stop' && !dropped && entry.state.phase === 'stopped') return answer(entry.state, true, 'already stopped');
      const up = entry.state.phase === 'running' || entry.state.phase === 'starting' || entry.state.phase === 'stopping';
      const hold = kind === 'stop' || up ? null : deps.holdOf(entry);
      if (hold === null) return issue(entry, kind, reason, answer, wait);
      deps.hold(
        entry,
        {
          blocked: (why) => answer(entry.state, false, `blocked (${why.reason}); it starts once that recovers`),
          proceed: () => issue(entry, kind, reason, answer, wait),
          cancel: (why) => answer(entry.state, false, why),
        },
        hold,
      );
    });
  }

  /** The command's input to the core, and a waiter that answers from the states that follow. */
  function issue(
    entry: UnitEntry,
    kind: CommandKind,
    reason: StopReason,
    answer: (state: UnitState, ok: boolean, message: string) => void,
    wait: boolean,
  ): void {
    const input: UnitInput =
      kind === 'start'
        ? { type: 'start-requested' }
        : kind === 'stop'
          ? { type: 'stop-requested', reason }
          : { type: 'restart-requested', ...(reason === 'operator' ? {} : { reason }) };
    const before = entry.state;
    loop.dispatch(entry, input);
    if (kind === 'start' && entry.state === before && before.phase === 'running')
      return answer(before, true, `already running (pid ${before.pid})`);
    // A start while a start is under way joins it (a racing `up -d`, a second `tend start`): it is
    // answered as that start is, from the life it began.
    const joined = kind === 'start' && entry.state === before && before.phase === 'starting';
    const since = joined ? before.generation - 1 : before.generation;

    let cancelBackstop = (): void => {};
    let cancelUptime = (): void => {};
    const waiter: Waiter = {
      check(state) {
        if (!isSettled(state)) return false;
        // A start of a service with a readiness probe answers once the probe has a verdict, one
        // without once it has run min_uptime (an exit before is a failed start).
        const fresh = wait && kind !== 'stop' && state.phase === 'running' && state.generation !== since;
        // A scheduled job's start answers with its result, like a systemd oneshot.
        if (fresh && loop.serviceOf(entry.ref).schedule !== null) return false;
        const readiness = fresh ? readinessOf(entry) : null;
        if (readiness?.state === 'pending') return false;
        if (fresh && readiness === null && state.startedAt !== null) {
          const left = state.startedAt + loop.serviceOf(entry.ref).min_uptime - clock.now();
          if (left > 0) {
            cancelUptime();
            cancelUptime = clock.setTimer(left, () => loop.poke(entry));
            return false;
          }
        }
        cancelUptime();
        cancelBackstop();
        const found = kind === 'stop' ? stopVerdict(state, latest.get(entry)) : startVerdict(kind, state, since, latest.get(entry));
        if (readiness?.state === 'ready') answer(state, true, `${found.message}, ready`);
        else if (readiness?.state === 'not-ready') answer(state, false, `${found.message} but not ready: ${readiness.output}`);
        else if (!found.ok && kind !== 'stop' && state.lastResult === 'spawn-failed' && entry.spawnError !== undefined)
          answer(state, false, found.message.replace('could not be spawned', entry.spawnError));
        else if (!found.ok && kind !== 'stop' && state.lastExit !== null)
          answer(state, false, `${found.message}${stderrTail(entry.ref.instance, state, loop.serviceOf(entry.ref))}`);
        else answer(state, found.ok, found.message);
        return true;
      },
      removed(state) {
        cancelBackstop();
        cancelUptime();
        answer(state, kind === 'stop', kind === 'stop' ? 'stopped and removed from the config' : 'removed from the config');
      },
    };
    if (waiter.check(entry.state)) return;
    entry.waiters.push(waiter);
    const limit = loop.serviceOf(entry.ref).stop.timeout + ANSWER_BACKSTOP_MS;
    cancelBackstop = clock.setTimer(limit, () => {
      entry.waiters = entry.waiters.filter((w) => w !== waiter);
      answer(entry.state, false, `no answer after ${Math.round(limit / 1000)} s: still ${entry.state.phase}; see \`tend ps\``);
    });
  }

  function entriesOf(refs: readonly UnitRef[]): UnitEntry[] {
    return refs.flatMap((ref) => loop.units.get(ref.id) ?? []);
  }

  return {
    command,

    async run(kind: CommandKind, refs: readonly UnitRef[], wait = true): Promise<UnitOutcome[]> {
      return Promise.all(await inSlices(entriesOf(refs), (entry) => command(entry, kind, 'operator', wait)));
    },

    /** One at a time: each unit must answer before the next is touched (rolling restart). */
    async runInTurn(kind: CommandKind, refs: readonly UnitRef[]): Promise<UnitOutcome[]> {
      const outcomes: UnitOutcome[] = [];
      for (const entry of entriesOf(refs)) outcomes.push(await command(entry, kind));
      return outcomes;
    },

    signal(refs: readonly UnitRef[], signal: NodeJS.Signals): UnitOutcome[] {
      return entriesOf(refs).map(({ ref, state }) => {
        const sent = state.pid !== null && loop.host.signalGroup(ref.id, signal);
        return {
          unit: ref.id,
          label: loop.label(ref),
          phase: state.phase,
          pid: state.pid,
          ok: sent,
          message: sent ? `sent ${signal}` : 'not running: nothing to signal',
        };
      });
    },

    stopAndRemove,

    /** Add instances (started at once) or remove the highest ones (stopped, then forgotten). */
    async scale(name: string, instances: number): Promise<UnitOutcome[]> {
      const service = loop.service(name);
      if (!service)
        throw unknownService(
          name,
          loop.config().services.map((s) => s.name),
        );
      const scaled = { ...service, instances };
      const config = loop.config();
      loop.setConfig({ ...config, services: config.services.map((s) => (s.name === name ? scaled : s)) }, [scaled]);
      if (instances > service.instances)
        return Promise.all(await inSlices(loop.add(scaled, service.instances), (entry) => command(entry, 'start')));
      const doomed = [...loop.units.values()].filter((e) => e.ref.service === name && e.ref.instance >= instances);
      return Promise.all(await inSlices(doomed, (entry) => stopAndRemove(entry, 'operator')));
    },
  };

  /** Stop the unit, then forget it (a reload removed its service, or a scale its instance). */
  async function stopAndRemove(entry: UnitEntry, reason: StopReason): Promise<UnitOutcome> {
    const outcome = await command(entry, 'stop', reason);
    loop.remove(entry);
    return outcome;
  }
}

/** How many of a failed run's last stderr lines a start's answer quotes, and how much of each. */
const STDERR_LINES = 3;
const STDERR_LINE_CHARS = 200;

/** "; its stderr: …": the last lines the run wrote to stderr, from its log file ("" if none). */
function stderrTail(instance: number, state: UnitState, service: ServiceConfig): string {
  if (state.startedWall === null) return '';
  const since = state.startedWall - 1;
  const { records } = readLastLines({
    files: [{ service: service.name, file: service.logs.file, keep: service.logs.keep }],
    lines: 200,
    since,
  });
  const lines = records
    .filter((r) => r.instance === instance && r.stream === 'err' && r.line.trim() !== '')
    .slice(-STDERR_LINES)
    .map((r) => (r.line.length > STDERR_LINE_CHARS ? `${r.line.slice(0, STDERR_LINE_CHARS - 1)}…` : r.line));
  return lines.length === 0 ? '' : `; its stderr: ${lines.join(' / ')}`;
}

function stopVerdict(state: UnitState, latest: CommandKind | undefined): { ok: boolean; message: string } {
  switch (state.phase) {
    case 'stopped':
      return { ok: true, message: 'stopped' };
    case 'exited':
    case 'fatal':
      return { ok: true, message: `not running (${state.phase})` };
    default: {
      // A later start or restart won: the unit runs (or waits to) again.
      const now = state.phase === 'running' ? `running again (pid ${state.pid})` : `${state.phase} again`;
      return { ok: false, message: `superseded by a later ${latest === 'stop' || latest === undefined ? 'start' : latest}: ${now}` };
    }
  }
}

/** A start or restart: a new life after the request (a new generation), and how it went. */
function startVerdict(
  kind: CommandKind,
  state: UnitState,
  generationAtRequest: number,
  latest: CommandKind | undefined,
): { ok: boolean; message: string } {
  if (state.generation === generationAtRequest) {
    // No new life: a later stop won, or the unit could not take the request.
    return state.phase === 'stopped'
      ? { ok: false, message: 'superseded by a later stop: stopped' }
      : { ok: false, message: `not ${kind}ed: ${state.phase}` };
  }
  switch (state.phase) {
    case 'running':
      return { ok: true, message: `${kind === 'start' ? 'started' : 'restarted'} (pid ${state.pid})` };
    case 'exited':
      return state.lastResult === 'success'
        ? { ok: true, message: 'ran and finished' }
        : { ok: false, message: `failed: ${describeEnd(state)}` };
    case 'backoff':
      return { ok: false, message: `failed: ${describeEnd(state)}; it will be retried` };
    case 'fatal':
      return { ok: false, message: `failed: ${describeEnd(state)}; start limit reached (fatal)` };
    default:
      return { ok: false, message: latest === 'stop' ? 'superseded by a later stop: stopped' : 'stopped before it could start' };
  }
}
