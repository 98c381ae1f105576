// The audit trail: every control action, as one event about tend itself — what was asked (and of
// which services), through which door (the unix socket, the TCP listener, the dashboard, a SIGHUP), and how it
// went, in a line. `tend why` and the events show who did what.
import type { AuditEntry, EventKind } from '../api/protocol.js';

/** How much of an outcome an event keeps (the answer itself went to whoever asked). */
const OUTCOME_CHARS = 1000;

function targetsOf({ action, request }: AuditEntry): string {
  if ('service' in request) return `${request.service}=${request.instances}`;
  if ('dryRun' in request) return request.dryRun ? 'dry run' : '';
  if ('services' in request) {
    const all = 'all' in request && request.all === true;
    const named = all || request.services.length === 0 ? 'all' : request.services.join(' ');
    return 'signal' in request ? `${named} ${request.signal}` : named;
  }
  return action === 'scale' ? '?' : '';
}

function outcomeOf(result: AuditEntry['result']): { ok: boolean; outcome: string } {
  if ('error' in result) return { ok: false, outcome: result.error };
  if ('results' in result) {
    const ok = result.results.every((r) => r.ok);
    return { ok, outcome: result.results.map((r) => `${r.label ?? r.unit}: ${r.message}`).join('; ') || 'nothing to do' };
  }
  const changed = (result.services ?? []).filter((c) => c.action !== 'keep').map((c) => `${c.service} ${c.action}`);
  return { ok: true, outcome: changed.length === 0 ? 'nothing changed' : changed.join('; ') };
}

export function auditRecord(entry: AuditEntry): EventKind {
  const { ok, outcome } = outcomeOf(entry.result);
  const short = outcome.length > OUTCOME_CHARS ? `${outcome.slice(0, OUTCOME_CHARS - 1)}…` : outcome;
  return { kind: 'action', action: entry.action, source: entry.source, targets: targetsOf(entry), ok, outcome: short };
}
