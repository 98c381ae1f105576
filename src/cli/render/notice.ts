// Supervisor notices as one readable sentence each, for the terminal. The events file keeps
// the structured record; this is only how a person reads it.
import type { EventRecord } from '../../api/protocol.js';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)}${units[unit]}`;
}

/** One event as a sentence; a record from before labels existed names its unit, a kind this tend does not know is named as it is. */
export function describeNotice(record: EventRecord): string {
  const who = record.label ?? record.unit;
  switch (record.kind) {
    case 'spawned':
      return record.restarts === 0
        ? `${who} started (pid ${record.pid})`
        : `${who} started again (pid ${record.pid}, restart ${record.restarts})`;
    case 'spawn-failed':
      return `${who} could not start: ${record.error}`;
    case 'exited': {
      const how = record.signal === null ? `exited with code ${record.code}` : `was killed by ${record.signal}`;
      return `${who} ${how} after ${formatDuration(record.uptimeMs)}`;
    }
    case 'restarting':
      return record.delayMs <= 0 ? `${who} restarting now` : `${who} restarting in ${formatDuration(record.delayMs)}`;
    case 'completed':
      return record.result === 'success' ? `${who} finished` : `${who} stays down (${record.result}; its restart policy says no)`;
    case 'fatal':
      return `${who} started ${record.starts} times within ${formatDuration(record.intervalMs)}: giving up (fatal) until it is started again`;
    case 'stopping':
      return `${who} stopping (${record.signal} to its process group)`;
    case 'memory-exceeded':
      return `${who} uses ${formatBytes(record.rssBytes)}, over its max_memory of ${formatBytes(record.limitBytes)}`;
    case 'stopped':
      return record.forced ? `${who} stopped (SIGKILL: it outlived the stop timeout)` : `${who} stopped`;
    case 'probe-failed':
      return `${who} failed its ${record.probe} probe: ${record.output}`;
    case 'blocked':
      return `${who} cannot start: blocked (${record.reason})`;
    case 'notify-failed':
      return `${who}: the ${record.alert} alert did not reach ${record.target}: ${record.reason}`;
    case 'run-skipped':
      return `${who}: a scheduled run was skipped (${record.reason})`;
    case 'ready':
      return `${who} is ready`;
    case 'not-ready':
      return `${who} is not ready: ${record.output}`;
    case 'log-lost':
      return record.ended
        ? `${who}: ${record.lines} lines (${formatBytes(record.bytes)}) of output were lost (${record.reason}); its log is written again`
        : `${who}: its output cannot be written to its log (${record.reason}); counting what is lost`;
    case 'engine-started':
      if (record.reason === 'upgrade') return 'tend: a new engine took over (upgrade); no service was restarted';
      return record.reason === 'respawn'
        ? `tend: a new engine took over after the last one ${record.previous ?? 'ended'}; services kept running`
        : 'tend: the engine started';
    case 'reloaded':
      return `tend: reloaded: ${record.summary}`;
    case 'action': {
      const door =
        { sighup: 'SIGHUP', tcp: 'the TCP API', dashboard: 'the dashboard', unix: 'the unix socket' }[record.source] ?? record.source;
      return `tend: ${record.action}${record.targets === '' ? '' : ` ${record.targets}`} (through ${door}): ${record.ok ? '' : 'failed: '}${record.outcome}`;
    }
    case 'reload-rejected':
      return `tend: ${record.reason}`;
    default: {
      const unknown: never = record; // every kind this tend knows is handled above
      return `${who} ${(unknown as { kind: string }).kind}`;
    }
  }
}
