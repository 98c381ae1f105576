// The day-to-day verbs: start, stop, restart, signal, scale, reload, down (and ps and status, from
// ps.ts). Each is one request to the project's engine, waits for its outcome and prints it.
import { isTendError, TendError } from '../../errors.js';
import { askKeeper, connect, namesOrAll } from '../connect.js';
import { psVerb, statusVerb } from './ps.js';
import { showProgress } from '../progress.js';
import { renderResults } from '../render/ps.js';
import type { Verb, VerbInput } from '../verb.js';
import type { ActionResponse } from '../../api/protocol.js';
import { describeChange } from '../render/reload.js';
import { renderTable } from '../render/table.js';

const json = { type: 'boolean', description: 'Print JSON for scripts instead of a table.' } as const;
const all = { type: 'boolean', short: 'a', description: 'Every service.' } as const;

function report(input: VerbInput, response: ActionResponse): number {
  if (input.values.json) input.io.stdout.write(`${JSON.stringify(response)}\n`);
  else input.io.stdout.write(renderResults(response.results));
  return response.results.every((r) => r.ok) ? 0 : 1;
}

const noDeps = { type: 'boolean', description: 'Do not also start what the services depend on (they wait for it instead).' } as const;
const withDependents = { type: 'boolean', description: 'Also stop the running services that depend on these, first.' } as const;
const noWait = {
  type: 'boolean',
  description: 'Answer at the spawn: do not wait for min_uptime, readiness or (a scheduled job) its result.',
} as const;
const actionOptions = {
  start: { 'no-deps': noDeps, 'no-wait': noWait },
  stop: { 'with-dependents': withDependents },
  restart: { 'no-wait': noWait },
} as const;
const actionDetails = {
  start: [
    'What the services depend on (depends_on) is started first, unless --no-deps; a start waits until its dependencies hold.',
    'It answers once each has run min_uptime or passed its readiness probe; a scheduled job, once it has finished (exit 1 if it failed). --no-wait answers at the spawn.',
  ],
  stop: [
    'Refused while running services depend on NAME, unless --with-dependents (they stop first). Dependents stop before what they depend on.',
  ],
  restart: [],
};

const actionVerb = (name: 'start' | 'stop' | 'restart', summary: string): Verb => ({
  name,
  summary,
  args: '[NAME...]',
  options: { all, json, ...actionOptions[name] },
  details: [
    'NAME is a service (every instance) or one instance such as web.1. Waits until each has reached the new state and prints how it went; exits 1 if any did not.',
    ...actionDetails[name],
  ].join('\n'),
  async run(input) {
    const request = {
      ...namesOrAll(input, name),
      ...(input.values['no-deps'] === true ? { noDeps: true } : {}),
      ...(input.values['with-dependents'] === true ? { withDependents: true } : {}),
      ...(input.values['no-wait'] === true ? { noWait: true } : {}),
    };
    const { client } = await connect(input);
    const done = showProgress(input.io, () => client.status());
    try {
      return report(input, await client[name](request));
    } finally {
      done();
    }
  },
});

const signalVerb: Verb = {
  name: 'signal',
  summary: 'Send a signal to the whole process group of services: tend signal NAME... SIGNAL.',
  args: 'NAME... SIGNAL',
  options: { json },
  details: 'SIGNAL is a name such as SIGHUP, HUP or USR1. Nothing else happens: tend does not expect an exit.',
  async run(input) {
    const signal = input.positionals.at(-1);
    const services = input.positionals.slice(0, -1);
    if (signal === undefined || services.length === 0) throw new TendError('TEND_USAGE', 'usage: tend signal NAME... SIGNAL');
    const { client } = await connect(input);
    return report(input, await client.signal({ services, signal }));
  },
};

const scaleVerb: Verb = {
  name: 'scale',
  summary: 'Run N instances of a service: tend scale NAME=N.',
  args: 'NAME=N',
  options: { json },
  details:
    'New instances start at once; surplus ones (the highest numbers) are stopped. The config file is not changed: a reload brings back its count.',
  async run(input) {
    const match = /^([^=]+)=(\d+)$/.exec(input.positionals[0] ?? '');
    if (!match || input.positionals.length !== 1) throw new TendError('TEND_USAGE', 'usage: tend scale NAME=N, e.g. tend scale web=3');
    const { client } = await connect(input);
    return report(input, await client.scale({ service: match[1] ?? '', instances: Number(match[2]) }));
  },
};

const reloadVerb: Verb = {
  name: 'reload',
  summary: 'Re-read the config and apply only the difference; an invalid config changes nothing.',
  args: '',
  options: { json, 'dry-run': { type: 'boolean', description: 'Say what a reload would do, service by service, and change nothing.' } },
  details: [
    'Unchanged services keep running untouched (same PID); changed ones restart, instances one at a time; removed ones stop; new ones start.',
    'A change of supervision only (restart, backoff, stop, logs, probes...) is applied in place, and a new instance count scales. SIGHUP to the engine does the same.',
    'Prints one line per service: what was done and which keys changed.',
  ].join('\n'),
  async run(input) {
    const { client } = await connect(input);
    const dry = input.values['dry-run'] === true;
    const result = await client.reload(dry ? { dryRun: true } : {});
    if (input.values.json) input.io.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const services = result.services ?? [];
      if (dry) input.io.stdout.write('dry run: nothing was changed\n');
      input.io.stdout.write(
        services.length === 0
          ? 'no services\n'
          : renderTable(
              ['SERVICE', 'CHANGE'],
              services.map((c) => [c.service, describeChange(c, dry)]),
            ),
      );
      for (const note of result.notes ?? []) input.io.stdout.write(`note: ${note}\n`);
    }
    return 0;
  },
};

const downVerb: Verb = {
  name: 'down',
  summary: 'Stop every service (stop signal, then SIGKILL after the timeout) and then the engine.',
  args: '',
  options: { json },
  details: 'Returns once every process group is empty and the engine has exited.',
  async run(input) {
    const { client, paths } = await connect(input);
    const { isAlive } = await import('../../host/proc.js');
    let response: Awaited<ReturnType<typeof client.down>>;
    const done = showProgress(input.io, () => client.status());
    try {
      response = await client.down();
    } catch (error) {
      done();
      // No engine answers, but a keeper may hold services: it stops them itself.
      const keeper = isTendError(error) && error.code === 'TEND_NO_ENGINE' ? await askKeeper(paths, 'down') : null;
      if (keeper === null) throw error;
      await waitForExit(isAlive, keeper.keeperPid, 60_000);
      if (isAlive(keeper.keeperPid))
        throw new TendError('TEND_ENGINE_UNREACHABLE', `the keeper (pid ${keeper.keeperPid}) is still stopping services after 60 s`);
      input.io.stdout.write(
        input.values.json
          ? `${JSON.stringify({ results: [], keeper: keeper.keeperPid })}\n`
          : 'stopped every service through the keeper (no engine was running)\n',
      );
      return 0;
    }
    done();
    // Under `up -d` the keeper exits right after the engine: wait for both (an engine too old to
    // say who it is in its answer is waited for by nothing more than its answer).
    const { pid: engine, keeperPid: keeper } = response.engine ?? { pid: 0, keeperPid: null };
    await waitForExit(isAlive, engine);
    if (keeper !== null) await waitForExit(isAlive, keeper);
    if (!input.values.json)
      input.io.stdout.write(
        `${response.results.length === 0 ? 'no service was running; ' : renderResults(response.results)}engine stopped\n`,
      );
    else input.io.stdout.write(`${JSON.stringify(response)}\n`);
    return 0;
  },
};

/** `down` means gone: wait (bounded) until the process has exited, judged by /proc. */
async function waitForExit(isAlive: (pid: number) => boolean, pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

export const fleetVerbs: readonly Verb[] = [
  psVerb,
  statusVerb,
  actionVerb('start', 'Start services (or --all) and wait until they run.'),
  actionVerb('stop', 'Stop services (or --all): stop signal to the group, SIGKILL after the timeout.'),
  actionVerb('restart', 'Restart services (or --all) and wait until they run again.'),
  signalVerb,
  scaleVerb,
  reloadVerb,
  downVerb,
];
