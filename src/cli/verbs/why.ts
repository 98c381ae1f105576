// `tend why NAME`: why a service is in its state — its last runs with their causes, and the
// operator actions that named it — from its events (render/why.ts). With no engine running (after
// `tend down`) the events file is read directly and the state is "not running".
import type { EventRecord } from '../../api/protocol.js';
import { isTendError, TendError } from '../../errors.js';
import { connect } from '../connect.js';
import { loadOrExplain } from '../load.js';
import type { WhyUnit } from '../render/why.js';
import type { Verb } from '../verb.js';

/** Events read back to find a service's story in: the latest this many, all services together. */
const EVENTS_READ = 20_000;

export const whyVerb: Verb = {
  name: 'why',
  summary: 'Why a service is in its state: its last runs, how each ended and why, what followed, and the operator actions that named it.',
  args: 'NAME',
  options: { runs: { type: 'string', short: 'n', description: 'How many of the last runs of each instance to tell (default 5).' } },
  details: [
    'Each run: when it started and ended, how (exit code or signal) and the cause — a crash, its liveness probe (with the output),',
    'max_memory, a stop timeout, an operator, a reload, tend stopping everything — then what followed (the backoff chosen,',
    'the start limit reached). Reads the events file when no engine runs.',
  ].join('\n'),
  async run(input) {
    const [name] = input.positionals;
    if (name === undefined || input.positionals.length > 1) throw new TendError('TEND_USAGE', 'usage: tend why NAME');
    const raw = input.values.runs;
    const limit = raw === undefined ? 5 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1) throw new TendError('TEND_USAGE', `-n expects a whole number of runs, got "${String(raw)}"`);
    const { client } = await connect(input);
    const { unknownService } = await import('../../engine/unit-ids.js');
    const records: EventRecord[] = [];
    let units: WhyUnit[];
    try {
      const status = await client.status();
      units = status.units.filter((u) => u.service === name || u.label === name || u.unit === name);
      if (units.length === 0) throw unknownService(name, [...new Set(status.units.map((u) => u.service))]);
      await client.events({ lines: EVENTS_READ, follow: false }, (record) => void records.push(record));
    } catch (error) {
      if (!isTendError(error) || error.code !== 'TEND_NO_ENGINE') throw error;
      const config = await loadOrExplain(input, { shortLived: true });
      const service = config.services.find((s) => s.name === name);
      if (service === undefined)
        throw unknownService(
          name,
          config.services.map((s) => s.name),
        );
      const [{ eventFeed }, { labelOf, unitRefs }] = await Promise.all([
        import('../../engine/feeds.js'),
        import('../../engine/unit-ids.js'),
      ]);
      records.push(...eventFeed(config.logDir, { lines: EVENTS_READ, follow: false }).snapshot);
      units = unitRefs(service.name, service.instances).map((ref) => ({
        unit: ref.id,
        label: labelOf(ref, service.instances),
        phase: 'stopped',
        startedAt: null,
        pid: null,
        restarts: 0,
        lastResult: null,
      }));
    }
    const { renderWhy } = await import('../render/why.js');
    const service = units[0]?.unit.slice(0, units[0].unit.lastIndexOf('.')) ?? name;
    input.io.stdout.write(renderWhy(service, units, records, limit));
    return 0;
  },
};
