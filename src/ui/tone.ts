// How a unit is doing, as a colour class (tone) and as words: the table and the graph say the
// same thing, and never by colour alone.
import type { UnitInfo } from '../api/protocol.js';
import { formatDuration } from '../cli/render/notice.js';
import { clock } from './format.js';

/** ok: running; warn: on its way up or down; bad: failed or blocked; idle: stopped or done. */
export type Tone = 'ok' | 'warn' | 'bad' | 'idle';

const rank: Readonly<Record<Tone, number>> = { ok: 0, idle: 1, warn: 2, bad: 3 };

export function toneOf(unit: UnitInfo): Tone {
  if (unit.waitingOn !== null) return unit.waitingOn.state === 'blocked' ? 'bad' : 'warn';
  switch (unit.phase) {
    case 'running':
      return unit.readiness?.state === 'not-ready' ? 'warn' : 'ok';
    case 'starting':
    case 'backoff':
    case 'stopping':
      return 'warn';
    case 'fatal':
      return 'bad';
    case 'exited':
      return unit.lastResult === null || unit.lastResult === 'success' ? 'idle' : 'bad';
    case 'stopped':
      return 'idle';
  }
}

/** The worst tone of a service's instances: one failing instance colours the whole service. */
export function worstTone(units: readonly UnitInfo[]): Tone {
  if (units.length === 0) return 'idle';
  let worst: Tone = 'ok';
  for (const unit of units) {
    const tone = toneOf(unit);
    if (rank[tone] > rank[worst]) worst = tone;
  }
  return worst;
}

/** The state cell: the phase, why it ended (exited, fatal, backoff), why a start waits, or when it runs next. */
export function phaseText(unit: UnitInfo): string {
  if (unit.waitingOn !== null) return `${unit.waitingOn.state} (${unit.waitingOn.reason})`;
  const { phase, lastResult } = unit;
  if (phase === 'stopping' && unit.stopping) {
    const kill = unit.stopping.killInMs > 0 ? `, SIGKILL in ${formatDuration(unit.stopping.killInMs)}` : ', SIGKILL sent';
    return `stopping (${unit.stopping.signal}${kill})`;
  }
  const base = (phase === 'exited' || phase === 'fatal' || phase === 'backoff') && lastResult !== null ? `${phase} (${lastResult})` : phase;
  if (unit.nextRun !== null && phase !== 'running' && phase !== 'starting' && phase !== 'stopping')
    return `${base}, next run ${clock(unit.nextRun)}`;
  return base;
}

/** The readiness cell. */
export function readinessText(unit: UnitInfo): string {
  if (unit.readiness === null) return '—';
  return unit.readiness.state === 'not-ready' ? 'not ready' : unit.readiness.state;
}
