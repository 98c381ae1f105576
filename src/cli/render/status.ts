// `tend status NAME`: one service as systemctl status shows a unit — each instance's state and
// since when, its pid and process tree, restarts, CPU and memory; the last things that happened
// to it (exits with their codes, signals and causes); and its last log lines.
import type { EventRecord, LogRecord, UnitInfo } from '../../api/protocol.js';
import { neutralize } from '../../logs/terminal.js';
import { describeNotice, formatBytes, formatDuration } from './notice.js';

/** A service's own words (its output, a probe's) never drive the terminal. */
const plain = (text: string): string => neutralize(Buffer.from(text), false).toString('utf8');

/** A process of an instance's group, and the ones it started (by parent pid). */
export interface ProcessNode {
  readonly pid: number;
  readonly command: string;
  readonly children: readonly ProcessNode[];
}

export interface ServiceView {
  readonly service: string;
  readonly units: readonly UnitInfo[];
  /** Its recent events, oldest first. */
  readonly events: readonly EventRecord[];
  /** Its last log lines, oldest first. */
  readonly lines: readonly LogRecord[];
  /** Per instance pid: its group's processes as a tree (the leader at the root). */
  readonly trees: ReadonlyMap<number, ProcessNode>;
}

/** What an instance is doing, in the words of systemctl's "Active:" line. */
function activeLine(unit: UnitInfo): string {
  const since = unit.startedAt === null ? '' : ` since ${unit.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
  const parts: string[] = [];
  if (unit.phase === 'running') {
    parts.push(`running${since}${unit.uptimeMs === null ? '' : ` (${formatDuration(unit.uptimeMs)})`}`);
    if (unit.readiness)
      parts.push(unit.readiness.state === 'ready' ? 'ready' : `not ready: ${plain(unit.readiness.output) || 'no verdict yet'}`);
  } else if (unit.waitingOn) parts.push(`${unit.waitingOn.state} (${unit.waitingOn.reason})`);
  else parts.push(unit.phase === 'exited' && unit.lastResult !== 'success' && unit.lastResult !== null ? 'failed' : unit.phase);
  if (unit.lastExit !== null) {
    const how = unit.lastExit.signal ?? `code ${unit.lastExit.code}`;
    parts.push(`last exit ${how}${unit.lastResult === null ? '' : ` (${unit.lastResult})`}`);
  }
  parts.push(`${unit.restarts} restart${unit.restarts === 1 ? '' : 's'}`);
  if (unit.nextRun !== null) parts.push(`next run ${unit.nextRun}`);
  if (unit.cpuPercent !== null) parts.push(`cpu ${unit.cpuPercent.toFixed(1)}%`);
  if (unit.rssBytes !== null) parts.push(`mem ${formatBytes(unit.rssBytes)}`);
  return parts.join(', ');
}

function treeLines(node: ProcessNode, indent: string, last: boolean, root: boolean): string[] {
  const branch = root ? '' : last ? '└─ ' : '├─ ';
  const lines = [`${indent}${branch}${node.pid} ${node.command}`];
  const childIndent = root ? indent : `${indent}${last ? '   ' : '│  '}`;
  for (const [i, child] of node.children.entries()) lines.push(...treeLines(child, childIndent, i === node.children.length - 1, false));
  return lines;
}

export function renderServiceStatus(view: ServiceView): string {
  const running = view.units.filter((u) => u.phase === 'running').length;
  const out = [`● ${view.service} — ${running} of ${view.units.length} instance${view.units.length === 1 ? '' : 's'} running`];
  for (const unit of view.units) {
    out.push(`  ${unit.label}: ${activeLine(unit)}`);
    const tree = unit.pid === null ? undefined : view.trees.get(unit.pid);
    if (tree) out.push(...treeLines(tree, '      ', true, true));
    else if (unit.pid !== null) out.push(`      ${unit.pid}`);
  }
  if (view.events.length > 0) {
    out.push('  Recent:');
    for (const record of view.events) out.push(`    ${record.time}  ${plain(describeNotice(record))}`);
  }
  if (view.lines.length > 0) {
    out.push('  Log:');
    for (const record of view.lines)
      out.push(`    ${record.time} ${record.label}${record.stream === 'err' ? ' (stderr)' : ''} | ${plain(record.line)}`);
  }
  return `${out.join('\n')}\n`;
}
