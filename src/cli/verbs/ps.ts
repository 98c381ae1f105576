// `tend ps [NAME...]` and `tend status [NAME...]`: the table of instances, filtered by name; and
// for named services, everything systemctl status shows of a unit (render/status.ts).
import type { EventRecord, LogRecord, StatusResponse } from '../../api/protocol.js';
import { isTendError } from '../../errors.js';
import { askKeeper, connect } from '../connect.js';
import { renderKeeperStatus, renderStatus } from '../render/ps.js';
import type { ProcessNode } from '../render/status.js';
import type { Verb } from '../verb.js';

const json = { type: 'boolean', description: 'Print JSON for scripts instead of a table.' } as const;

/** The units of the named services (or instances, web.1), all when none is named; a typo gets the nearest name. */
async function chosenUnits(status: StatusResponse, names: readonly string[]): Promise<StatusResponse['units']> {
  if (names.length === 0) return status.units;
  const services = [...new Set(status.units.map((u) => u.service))];
  const unknown = names.find((name) => !status.units.some((u) => u.service === name || u.unit === name || u.label === name));
  if (unknown !== undefined) {
    const { unknownService } = await import('../../engine/unit-ids.js');
    throw unknownService(unknown, services);
  }
  return status.units.filter((u) => names.some((name) => u.service === name || u.unit === name || u.label === name));
}

export const psVerb: Verb = {
  name: 'ps',
  summary: 'Show service instances (all, or those named): state, pid, uptime, restarts, last exit, CPU and memory.',
  args: '[NAME...]',
  options: { json },
  details: 'CPU and MEM cover the whole process group of each instance. STATE is where it is; LAST EXIT says how its last run ended.',
  async run(input) {
    const { client, paths } = await connect(input);
    try {
      const status = await client.status();
      const shown = { ...status, units: await chosenUnits(status, input.positionals) };
      input.io.stdout.write(input.values.json ? `${JSON.stringify(shown)}\n` : renderStatus(shown));
      return 0;
    } catch (error) {
      const keeper = isTendError(error) && error.code === 'TEND_NO_ENGINE' ? await askKeeper(paths) : null;
      if (keeper === null) throw error;
      // The engine is down but the services run: say what the keeper holds and why (exit 1).
      input.io.stdout.write(input.values.json ? `${JSON.stringify({ engine: null, keeper })}\n` : renderKeeperStatus(keeper));
      return 1;
    }
  },
};

/** Events that tell a service's story: starts, exits and why, restarts, probes, stops. */
const STORY = new Set([
  'spawned',
  'spawn-failed',
  'exited',
  'restarting',
  'fatal',
  'probe-failed',
  'stopping',
  'stopped',
  'blocked',
  'not-ready',
  'memory-exceeded',
]);

export const statusVerb: Verb = {
  name: 'status',
  summary: 'Without NAME, the same as `tend ps`; with NAME, everything about those services, as systemctl status shows a unit.',
  args: '[NAME...]',
  options: { json },
  details: [
    "For each service: every instance's state and since when, its pid and process tree, restarts, last exit, CPU and memory;",
    'the last events about it (exits with their code or signal and cause, restarts, probe failures); and its last 10 log lines.',
  ].join('\n'),
  async run(input) {
    if (input.positionals.length === 0) return psVerb.run(input);
    const { client } = await connect(input);
    const status = await client.status();
    const units = await chosenUnits(status, input.positionals);
    const services = [...new Set(units.map((u) => u.service))];
    const events: EventRecord[] = [];
    await client.events({ lines: 2000, follow: false }, (record) => void events.push(record));
    const { renderServiceStatus } = await import('../render/status.js');
    const views = [];
    for (const service of services) {
      const lines: LogRecord[] = [];
      await client.logs({ services: [service], lines: 10, follow: false }, (record) => void lines.push(record));
      const mine = units.filter((u) => u.service === service);
      views.push({
        service,
        units: mine,
        events: events.filter((e) => e.service === service && STORY.has(e.kind)).slice(-10),
        lines,
        trees: await processTrees(mine.flatMap((u) => (u.pid === null ? [] : [u.pid]))),
      });
    }
    if (input.values.json) {
      const plain = views.map((view) => ({ ...view, trees: Object.fromEntries(view.trees) }));
      input.io.stdout.write(`${JSON.stringify({ engine: status.engine, services: plain })}\n`);
    } else input.io.stdout.write(views.map(renderServiceStatus).join('\n'));
    return 0;
  },
};

/** The processes of each group (leader pid = pgid), as a tree by parent pid, with their command lines. */
async function processTrees(leaders: readonly number[]): Promise<Map<number, ProcessNode>> {
  const [{ scanLive }, fs] = await Promise.all([import('../../host/proc.js'), import('node:fs')]);
  const wanted = new Set(leaders);
  const members = new Map<number, { ppid: number; pgrp: number }>();
  scanLive((pid, stat) => {
    if (wanted.has(stat.pgrp)) members.set(pid, { ppid: stat.ppid, pgrp: stat.pgrp });
  });
  const commandOf = (pid: number): string => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      return text.length > 120 ? `${text.slice(0, 119)}…` : text;
    } catch {
      return '(gone)';
    }
  };
  const build = (pid: number): ProcessNode => ({
    pid,
    command: commandOf(pid),
    children: [...members].filter(([child, m]) => m.ppid === pid && child !== pid).map(([child]) => build(child)),
  });
  const trees = new Map<number, ProcessNode>();
  for (const leader of leaders) if (members.has(leader)) trees.set(leader, build(leader));
  return trees;
}
