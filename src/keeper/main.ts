#!/usr/bin/env node
// The keeper's own entry, apart from the CLI so it loads only what it needs (it lives as long
// as the project runs). `tend up -d` starts it in its own session:
//   node keeper/main.js --file CONFIG --engine MAIN_JS
// It takes the project lock, ends what a dead keeper left behind (by its PID journal), opens a
// journal of its own and runs the engine.
import { parseArgs } from 'node:util';
import { runKeeper } from './keeper.js';
import { openCgroups } from '../host/cgroup.js';
import { runEmergencyHooks } from '../lib/emergency.js';
import { closeInheritedDescriptors } from '../lib/inherited-fds.js';
import { acquireLock } from '../runtime/lock.js';
import { endLeftovers } from '../runtime/leftovers.js';
import { ensurePrivateDir, projectPaths } from '../runtime/runtime-dir.js';
import { createStateJournal, readState, recordOf } from '../runtime/state-file.js';

// Started by systemd or a shell: whatever else it was handed must not reach the services.
closeInheritedDescriptors();

const log = (text: string): void => {
  try {
    process.stderr.write(`${new Date().toISOString()} keeper ${process.pid}: ${text}\n`);
  } catch {
    // engine.log refused the line (disk full): the keeper carries on without it
  }
};

// The keeper's own bugs: an exception nothing handled means its state can no longer be
// trusted, so every service group it holds is SIGKILLed (keeper.ts registers the hook) before
// it exits — a broken keeper never leaves services without a supervisor.
const die = (error: unknown): never => {
  runEmergencyHooks();
  log(`internal error, every service was killed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(70);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
// Test-only: a bug of the keeper's own, on demand, so a test sees what it takes down with it.
if (process.env.TEND_TEST_FAULT === 'keeper-throw-on-usr2') {
  process.on('SIGUSR2', () =>
    setImmediate(() => {
      throw new Error('injected fault (TEND_TEST_FAULT)');
    }),
  );
}

const { values } = parseArgs({ options: { file: { type: 'string' }, engine: { type: 'string' } }, allowPositionals: true });
const file = values.file ?? '';
const engineMain = values.engine ?? '';
const env: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;

/** To the `up -d` that started us, if it still listens; never throws (it may be gone). */
const tellStarter = (message: unknown, then: () => void): void => {
  if (!process.connected || !process.send) return then();
  process.send(message, undefined, {}, () => then());
};

/**
 * Started by `tend up -d` (an IPC channel to it), the keeper boots while the CLI validates the
 * config, then gets it — or null (invalid), or nothing (the CLI died): then there is nothing to
 * run. Started otherwise (a boot unit: no channel), the engine loads the file itself.
 */
const firstConfig = (): Promise<{ config?: unknown; only?: readonly string[] } | null> =>
  new Promise((resolve) => {
    if (!process.send) return resolve({});
    const take = (message: unknown) => {
      process.off('disconnect', cancel);
      const m = message as { type?: unknown; config?: unknown; only?: unknown };
      const only = Array.isArray(m?.only) && m.only.every((name) => typeof name === 'string') ? { only: m.only as string[] } : {};
      resolve(m?.type === 'config' && m.config !== null && m.config !== undefined ? { config: m.config, ...only } : null);
    };
    const cancel = () => {
      process.off('message', take);
      resolve(null);
    };
    process.once('message', take);
    process.once('disconnect', cancel);
  });

try {
  const first = await firstConfig();
  if (first === null) process.exit(0);
  const paths = projectPaths(file, env);
  ensurePrivateDir(paths);
  const lock = await acquireLock(paths, file);
  const previous = readState(paths.state);
  if (previous)
    for (const ended of await endLeftovers(previous)) log(`ended ${ended.unit} (pid ${ended.pid}), left running by a keeper that died`);
  // A cgroup per service where the system lets us make them; process groups otherwise.
  const cgroups = openCgroups(`tend-${paths.id}`);
  log(
    cgroups === null
      ? 'containment: process groups (no writable cgroup v2 hierarchy)'
      : `containment: a cgroup per service below ${cgroups.root}`,
  );
  const journal = createStateJournal(
    paths.state,
    recordOf(process.pid) ?? { pid: process.pid, startTime: 0 },
    (text) => log(`warning: ${text}`),
    cgroups?.root,
  );
  const node = [process.execPath, ...process.execArgv];
  const keeper = runKeeper({
    engineArgv: [...node, engineMain, 'engine', '--keeper', '--file', file],
    probeArgv: [...node, engineMain, 'engine', '--capabilities', '--file', file],
    cwd: process.cwd(),
    env,
    log,
    journal,
    cgroups,
    firstConfig: first.config,
    ...(first.only === undefined ? {} : { firstOnly: first.only }),
  });
  lock.answer((request) => keeper.answer(request));
  const code = await keeper.done;
  journal.remove(); // the keeper finishes only once every group is empty
  cgroups?.remove();
  lock.release();
  process.exit(code);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log(message);
  // Tell the `up -d` that started us why (e.g. TEND_ALREADY_RUNNING), then go.
  const code = (error as { code?: unknown }).code;
  const hint = (error as { hint?: unknown }).hint;
  const reply = {
    type: 'error',
    code: typeof code === 'string' ? code : 'TEND_ENGINE_START_FAILED',
    message,
    ...(typeof hint === 'string' ? { hint } : {}),
  };
  tellStarter(reply, () => process.exit(1));
}
