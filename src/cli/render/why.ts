// `tend why NAME`: why a service is where it is, from its events — its last runs, each with its
// start and end, how it ended and the cause (a crash, its liveness probe, max_memory, a stop
// timeout, an operator, a reload, tend's own shutdown), what followed (the backoff chosen, the
// start limit reached) — and the operator actions that named it. systemd's Result= and s6's
// death tally, in sentences.
import type { EventRecord, UnitInfo } from '../../api/protocol.js';
import { neutralize } from '../../logs/terminal.js';
import { formatBytes, formatDuration } from './notice.js';

const plain = (text: string): string => neutralize(Buffer.from(text), false).toString('utf8');
const clock = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, '');

interface Run {
  start: string;
  pid: number | null;
  lines: string[];
  end?: string;
  cause?: string;
  after?: string;
}

type Stop = Extract<EventRecord, { kind: 'stopping' }>;
type Exit = Extract<EventRecord, { kind: 'exited' }>;

/** How a run ended, as a cause: what tend did to it (the stop's reason) or what it did itself. */
function causeOf(exit: Exit, stop: Stop | undefined, probe: string | undefined, memory: string | undefined): string {
  const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  if (exit.result === 'stop-timeout') return `${how}: it outlived its stop timeout after ${stop?.signal ?? 'the stop signal'} (SIGKILL)`;
  if (probe !== undefined) return `${how}: stopped because ${probe}`;
  if (memory !== undefined) return `${how}: stopped because it used ${memory}`;
  if (stop !== undefined) {
    const reasons: Readonly<Record<string, string>> = {
      operator: 'an operator (stop or restart)',
      shutdown: 'tend stopping everything',
      reload: 'a reload',
      liveness: 'its liveness probe',
      memory: 'max_memory',
      schedule: 'its cron_restart schedule',
      watch: 'a change of its watched files',
      dependency: 'a dependency back from a restart (depends_on restart: true)',
    };
    const by = reasons[stop.reason] ?? stop.reason;
    return `${how}: stopped by ${by} (${stop.signal})`;
  }
  if (exit.result === 'success') return `${how}: it finished with success`;
  return `${how}: it ended by itself (a crash)`;
}

/** The runs of one instance, oldest first. */
function runsOf(records: readonly EventRecord[]): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  let stop: Stop | undefined;
  let probe: string | undefined;
  let memory: string | undefined;
  for (const r of records) {
    switch (r.kind) {
      case 'spawned':
        current = { start: r.time, pid: r.pid, lines: [] };
        runs.push(current);
        [stop, probe, memory] = [undefined, undefined, undefined];
        break;
      case 'spawn-failed':
        runs.push({ start: r.time, pid: null, lines: [], end: r.time, cause: `could not start: ${plain(r.error)}` });
        current = runs.at(-1);
        break;
      case 'stopping':
        stop = r;
        break;
      case 'probe-failed':
        probe = `its ${r.probe} probe failed: ${plain(r.output)}`;
        break;
      case 'memory-exceeded':
        memory = `${formatBytes(r.rssBytes)}, over its max_memory of ${formatBytes(r.limitBytes)}`;
        break;
      case 'not-ready':
        current?.lines.push(`${clock(r.time)} not ready: ${plain(r.output)}`);
        break;
      case 'ready':
        current?.lines.push(`${clock(r.time)} ready`);
        break;
      case 'exited':
        if (current) [current.end, current.cause] = [r.time, `${causeOf(r, stop, probe, memory)}, after ${formatDuration(r.uptimeMs)}`];
        break;
      case 'restarting':
        if (current)
          current.after = `restarted by its policy after a backoff of ${formatDuration(r.delayMs)} (failure ${r.attempt} in a row)`;
        break;
      case 'fatal':
        if (current)
          current.after = `fatal: ${r.starts} starts within ${formatDuration(r.intervalMs)} reached its start limit; tend stopped restarting it`;
        break;
      case 'blocked':
        runs.push({ start: r.time, pid: null, lines: [], cause: `its start waits: ${plain(r.reason)}` });
        break;
      default:
        break;
    }
  }
  return runs;
}

/** The operator actions that named the service (or all), as lines. */
function actionsOf(records: readonly EventRecord[], service: string, labels: readonly string[]): string[] {
  return records.flatMap((r) => {
    if (r.kind !== 'action') return [];
    const named = r.targets.split(' ');
    const touches = named.includes('all') || named.includes(service) || labels.some((l) => named.includes(l)) || r.action === 'down';
    if (!touches || r.action === 'reload' || r.action === 'upgrade') return [];
    const door = { tcp: 'TCP API', sighup: 'SIGHUP', dashboard: 'dashboard', unix: 'unix socket' }[r.source] ?? r.source;
    return [
      `${clock(r.time)} tend ${r.action}${r.targets === '' ? '' : ` ${r.targets}`} (${door}): ${r.ok ? '' : 'failed: '}${plain(r.outcome)}`,
    ];
  });
}

/** What `why` needs of an instance: from the engine's status, or (no engine) from the config. */
export type WhyUnit = Pick<UnitInfo, 'unit' | 'label' | 'phase' | 'startedAt' | 'pid' | 'restarts' | 'lastResult'>;

export function renderWhy(service: string, units: readonly WhyUnit[], records: readonly EventRecord[], limit: number): string {
  const out: string[] = [];
  for (const unit of units) {
    const state =
      unit.phase === 'running'
        ? `running since ${clock(unit.startedAt ?? '')} (pid ${unit.pid})`
        : unit.phase === 'exited' && unit.lastResult !== 'success' && unit.lastResult !== null
          ? `failed (${unit.lastResult})`
          : unit.phase;
    out.push(`${unit.label}: ${state}; ${unit.restarts} restart${unit.restarts === 1 ? '' : 's'}`);
    const runs = runsOf(records.filter((r) => r.unit === unit.unit));
    if (runs.length === 0) out.push('  no runs on record');
    const shown = runs.slice(-limit);
    if (runs.length > shown.length) out.push(`  (${runs.length - shown.length} earlier runs not shown)`);
    for (const [i, run] of shown.entries()) {
      const n = runs.length - shown.length + i + 1;
      const span = run.end === undefined ? `${clock(run.start)} → now` : `${clock(run.start)} → ${clock(run.end)}`;
      out.push(
        `  run ${n}${run.pid === null ? '' : `, pid ${run.pid}`}: ${span}${run.cause === undefined ? ': still running' : `: ${run.cause}`}`,
      );
      for (const line of run.lines) out.push(`      ${line}`);
      if (run.after) out.push(`      then ${run.after}`);
    }
  }
  const actions = actionsOf(
    records,
    service,
    units.map((u) => u.label),
  );
  if (actions.length > 0) out.push('operator actions:', ...actions.slice(-limit).map((line) => `  ${line}`));
  return `${out.join('\n')}\n`;
}
