// `tend ps`: one row per unit — where it is (phase), why its last run ended (result), and what
// its whole process group costs now.
import type { ActionResult, StatusResponse, UnitInfo } from '../../api/protocol.js';
import type { KeeperStatus } from '../../host/keeper-protocol.js';
import { formatBytes, formatDuration } from './notice.js';
import { renderTable } from './table.js';

function lastExit(unit: UnitInfo): string {
  if (unit.lastExit === null) return unit.lastResult === 'spawn-failed' ? 'spawn failed' : '-';
  const how = unit.lastExit.signal ?? `code ${unit.lastExit.code}`;
  return unit.lastResult && unit.lastResult !== 'success' && unit.lastResult !== 'exit-code' && unit.lastResult !== 'signal'
    ? `${how} (${unit.lastResult})`
    : how;
}

/** Which containment is in force, in one line under the table. */
export function describeContainment(containment: 'cgroup' | 'process-group', root: string | null): string {
  return containment === 'cgroup'
    ? `containment: a cgroup per service (below ${root ?? '?'}): a stop reaches every process of a service`
    : 'containment: process groups (no writable cgroup v2 hierarchy): a process that calls setsid() escapes a stop';
}

/** "14:30" today (local time), else "2026-12-01 03:00". */
function whenOf(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const now = new Date();
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** The STATE column: the phase, or why a start waits, or a running instance not (yet) ready. */
function stateOf(unit: StatusResponse['units'][number]): string {
  if (unit.waitingOn) return `${unit.waitingOn.state} (${unit.waitingOn.reason})`;
  if (unit.nextRun !== null && unit.phase !== 'running' && unit.phase !== 'starting' && unit.phase !== 'stopping') {
    return `${unit.phase === 'exited' && unit.lastResult !== 'success' ? 'failed' : 'scheduled'} (next ${whenOf(unit.nextRun)})`;
  }
  if (unit.phase === 'exited' && unit.lastResult !== null && unit.lastResult !== 'success') return 'failed';
  if (unit.phase === 'running' && unit.readiness && unit.readiness.state !== 'ready')
    return unit.readiness.state === 'pending' ? 'running (not ready yet)' : 'running (not ready)';
  return unit.phase;
}

export function renderStatus(status: StatusResponse): string {
  const footer =
    status.engine.containment === undefined ? '' : `${describeContainment(status.engine.containment, status.engine.cgroupRoot)}\n`;
  if (status.units.length === 0) return `no services\n${footer}`;
  const rows = status.units.map((unit) => [
    unit.label,
    stateOf(unit),
    unit.pid === null ? '-' : String(unit.pid),
    unit.uptimeMs === null ? '-' : formatDuration(unit.uptimeMs),
    String(unit.restarts),
    lastExit(unit),
    unit.cpuPercent === null ? '-' : `${unit.cpuPercent.toFixed(1)}%`,
    unit.rssBytes === null ? '-' : formatBytes(unit.rssBytes),
  ]);
  return `${renderTable(['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'CPU', 'MEM'], rows)}${footer}`;
}

/** One line per unit an action touched: "web.0  started (pid 123)". */
export function renderResults(results: readonly ActionResult[]): string {
  if (results.length === 0) return 'nothing to do\n';
  return renderTable(
    ['NAME', 'RESULT'],
    results.map((r) => [r.label ?? r.unit, r.message]),
  )
    .split('\n')
    .slice(1)
    .join('\n');
}

/** No engine answers, but the keeper holds services: what it holds, why the engine is down, what next. */
export function renderKeeperStatus(keeper: KeeperStatus): string {
  const why = keeper.lastFailure === null ? '' : ` Its last failure (${keeper.lastFailure.at}): ${keeper.lastFailure.reason}.`;
  const next = keeper.nextEngineAt === null ? '' : ` The keeper tries again at ${keeper.nextEngineAt}.`;
  const head =
    `The engine is not running; the keeper (pid ${keeper.keeperPid}) still holds the services.${why}${next}\n` +
    'tend down stops them all through the keeper.\n';
  if (keeper.units.length === 0) return head;
  return `${head}${renderTable(
    ['NAME', 'PID'],
    keeper.units.map((u) => [u.unit, u.pid === null ? '-' : String(u.pid)]),
  )}`;
}
