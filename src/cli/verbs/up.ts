// `tend up`: run the fleet in the foreground with output multiplexed on the terminal, or with
// -d hand it to a background engine and return once every service has started. Either way the
// control API answers on the project's socket, so `tend ps` works from another terminal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ActionResult } from '../../api/protocol.js';
import type { EngineAnnouncement } from '../../host/keeper-protocol.js';
import { isTendError, TendError } from '../../errors.js';
import { deferred } from '../../lib/deferred.js';
import { onEmergency } from '../../lib/emergency.js';
import { openOwnFile } from '../../lib/own-file.js';
import { connect } from '../connect.js';
import { showProgress } from '../progress.js';
import { loadOrExplain } from '../load.js';
import { renderResults } from '../render/ps.js';
import { describeChange } from '../render/reload.js';
import type { Verb, VerbInput } from '../verb.js';
import { version } from '../version.js';

export const upVerb: Verb = {
  name: 'up',
  summary: 'Start every service (or those named, with what they need) and supervise them: in the foreground, or with -d in the background.',
  args: '[NAME...]',
  options: {
    detach: { type: 'boolean', short: 'd', description: 'Run the engine in the background and return once the services have started.' },
  },
  details: [
    'Foreground: output of every service is shown prefixed with its name and kept in its log file.',
    'Ctrl-C or SIGTERM stops all services (stop signal, then SIGKILL after the timeout) and exits 0',
    'once every process group is empty; a second Ctrl-C kills them at once (exit 130). When every',
    'service has come to rest by itself, tend exits: 0 if all succeeded, else 1.',
    'Background (-d): returns 0 once every service has started (1 if one failed, with the reason);',
    'use `tend ps`, `tend logs -f` and `tend down`. One engine per config file: `up -d` while it runs',
    'starts what is not running (of NAME..., or every service) and exits 0 if all of it runs.',
    'NAME...: only these services, and what they depend on (depends_on); the others stay stopped.',
  ].join('\n'),
  run: (input) => (input.values.detach ? upDetached(input) : upForeground(input)),
};

async function upForeground(input: VerbInput): Promise<number> {
  const { io } = input;
  const config = await loadOrExplain(input);
  const only = await namedServices(input, config);
  const [{ serve }, { createTerminalFormatter, shouldUseColor }, { describeNotice }, { labelOf, unitRefs }] = await Promise.all([
    import('../../engine/session.js'),
    import('../../logs/terminal.js'),
    import('../render/notice.js'),
    import('../../engine/unit-ids.js'),
  ]);
  const labels = config.services.flatMap((s) => unitRefs(s.name, s.instances).map((ref) => labelOf(ref, s.instances)));
  const terminal = createTerminalFormatter({ color: shouldUseColor({ isTTY: io.stdout.isTTY === true, env: io.env }), names: labels });
  // A reader that goes away (`tend up | head`) must not take the services down: stop echoing,
  // the log files keep everything.
  let echo = !isDevNull(io.stdout);
  io.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    echo = false;
  });
  const say = (text: string) => echo && io.stdout.write(terminal.formatText('tend', text));

  // Test-only: TEND_TEST_FAULT=throw-after-start makes tend die of an "internal error" once every
  // service is up, so a test can check that a crash of tend takes its process groups along.
  const faultInjected = io.env.TEND_TEST_FAULT === 'throw-after-start';
  let spawned = 0;
  let stopping = false;
  let restingCode = 0;
  const exitCode = deferred<number>();

  const session = await serve({
    config,
    only,
    env: io.env,
    cwd: io.cwd,
    version: version(),
    observer: {
      output: (unit, stream, lines) => echo && io.stdout.write(terminal.format(unit.label, lines, stream)),
      notice(record) {
        say(describeNotice(record));
        if (record.kind === 'spawned' && faultInjected && ++spawned === labels.length) injectFault();
      },
      warning: (text) => say(`warning: ${text}`),
      resting() {
        if (stopping || labels.length === 0) return;
        stopping = true;
        const failed = session.engine.status().filter((unit) => unit.lastResult !== 'success');
        say(
          failed.length === 0
            ? 'every service has finished'
            : `every service is down; ${failed.map((u) => `${u.label} (${u.waitingOn ? `${u.waitingOn.state}: ${u.waitingOn.reason}` : u.lastResult})`).join(', ')} did not succeed`,
        );
        restingCode = failed.length === 0 ? 0 : 1;
        void session.shutdown();
      },
    },
  });
  const forgetEmergency = onEmergency(() => session.engine.killNow());
  // Every way out but a second Ctrl-C ends here: Ctrl-C, everything at rest, `tend down` elsewhere.
  void session.finished.then(() => exitCode.resolve(restingCode));

  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGHUP') {
      session.reload().then(
        (result) => {
          const changed = (result.services ?? []).filter((change) => change.action !== 'keep');
          say(
            changed.length === 0
              ? 'reloaded: nothing changed'
              : `reloaded: ${changed.map((change) => `${change.service} ${describeChange(change, false)}`).join('; ')}`,
          );
        },
        (error: unknown) => say(`reload rejected: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    if (!stopping) {
      stopping = true;
      say(`${signal}: stopping every service (press Ctrl-C again to kill them now)`);
      void session.shutdown().then(() => say('all services stopped'));
      return;
    }
    say(`${signal} again: killing every process group now`);
    session.engine.killNow();
    exitCode.resolve(130);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);

  if (process.pid === 1) {
    // Orphans are re-parented to PID 1, and Node reaps only the children it spawned itself:
    // grandchildren that outlive their parent would stay zombies for ever.
    say(
      'warning: tend runs as PID 1: it forwards signals and stops services, but cannot reap orphaned grandchildren; run it under an init: `docker run --init` or tini',
    );
  }
  say(`${config.file}: starting ${labels.length} process${labels.length === 1 ? '' : 'es'}; logs in ${config.logDir}`);
  if (labels.length === 0) {
    say(
      config.services.length === 0
        ? 'the config has no services; waiting for `tend reload` or Ctrl-C'
        : 'no processes to run (every service has instances: 0); waiting for `tend scale` or Ctrl-C',
    );
  }
  try {
    return await exitCode.promise;
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    forgetEmergency();
  }
}

/** Under nohup or a unit file stdout is often /dev/null: formatting every line for it only burns CPU. */
function isDevNull(stream: NodeJS.WriteStream): boolean {
  try {
    const fd = (stream as { fd?: unknown }).fd;
    if (typeof fd !== 'number') return false;
    const out = fs.fstatSync(fd);
    return out.isCharacterDevice() && out.rdev === fs.statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

function injectFault(): void {
  setImmediate(() => {
    throw new Error('injected fault (TEND_TEST_FAULT)');
  });
}

/**
 * Spawn the keeper (its own session, output to engine.log); it starts the engine, whose first
 * word — ready with the start outcomes, or the error that stopped it — comes back through it.
 * The keeper boots while this process validates the config (both take a Node start's worth of
 * time); it gets the config when it is valid, or is told to go when it is not.
 */
async function upDetached(input: VerbInput): Promise<number> {
  const { io } = input;
  const [{ findConfigFile }, { ensurePrivateDir, projectPaths }] = await Promise.all([
    import('../../config/find.js'),
    import('../../runtime/runtime-dir.js'),
  ]);
  const file = findConfigFile({ file: typeof input.values.file === 'string' ? input.values.file : undefined, cwd: io.cwd, env: io.env });
  const paths = projectPaths(file, io.env);
  ensurePrivateDir(paths);
  const running = await startInRunning(input);
  if (running !== null) return running;
  const log = openRuntimeFile(paths.engineLog);
  const keeperMain = fileURLToPath(new URL('../../keeper/main.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, keeperMain, '--file', file, '--engine', process.argv[1] ?? ''], {
    cwd: io.cwd,
    env: io.env as NodeJS.ProcessEnv,
    detached: true, // its own session: Ctrl-C in this terminal must not reach it
    stdio: ['ignore', log, log, 'ipc'],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let config: Awaited<ReturnType<typeof loadOrExplain>>;
  let only: string[];
  try {
    config = await loadOrExplain(input, { shortLived: true });
    only = await namedServices(input, config);
  } catch (error) {
    child.send({ type: 'config', config: null }, () => {}); // nothing to run: the keeper goes at once
    await exited;
    throw error;
  }
  // The keeper hands it to its first engine, which then need not load and validate it again.
  child.send({ type: 'config', config, only }, () => {});
  const { client } = await connect(input);
  const done = showProgress(io, () => client.status());
  const hello = await new Promise<EngineAnnouncement | null>((resolve) => {
    child.once('message', (message) => resolve(message as EngineAnnouncement));
    void exited.then(() => resolve(null));
  }).finally(done);
  child.removeAllListeners();
  if (child.connected) child.disconnect();
  child.unref();
  if (hello === null)
    throw new TendError('TEND_ENGINE_START_FAILED', `the keeper exited at once; see ${paths.engineLog}:\n${tail(paths.engineLog)}`);
  if (hello.type === 'error') {
    // Another `up -d` got there first: this one starts what it was asked to in that engine.
    const started = hello.code === 'TEND_ALREADY_RUNNING' ? await startInRunning(input) : null;
    if (started !== null) return started;
    for (const line of hello.details ?? []) io.stderr.write(`${line}\n`);
    const code = hello.code === 'TEND_ALREADY_RUNNING' ? 'TEND_ALREADY_RUNNING' : 'TEND_ENGINE_START_FAILED';
    throw new TendError(
      code,
      code === 'TEND_ALREADY_RUNNING' ? config.file : hello.message,
      hello.hint === undefined ? {} : { hint: hello.hint },
    );
  }
  const results = hello.results as readonly ActionResult[];
  io.stdout.write(renderResults(results));
  io.stdout.write(`running in the background (keeper pid ${child.pid}); logs in ${config.logDir}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

/** The services `up NAME...` names, checked against the config (a typo gets the nearest name). */
async function namedServices(input: VerbInput, config: { readonly services: readonly { readonly name: string }[] }): Promise<string[]> {
  const names = config.services.map((service) => service.name);
  const unknown = input.positionals.find((name) => !names.includes(name));
  if (unknown === undefined) return [...input.positionals];
  const { unknownService } = await import('../../engine/unit-ids.js');
  throw unknownService(unknown, names);
}

/**
 * `up -d` while the project's engine runs (compose's habit): start in it what is not running —
 * the named services, or every one — and say so. Null when no engine answers.
 */
async function startInRunning(input: VerbInput): Promise<number | null> {
  const { client } = await connect(input);
  let status: Awaited<ReturnType<typeof client.status>>;
  try {
    status = await client.status();
  } catch (error) {
    if (isTendError(error) && error.code === 'TEND_NO_ENGINE') return null;
    throw error;
  }
  const services = [...input.positionals];
  const response = await client.start({ services, all: services.length === 0 });
  input.io.stdout.write(renderResults(response.results));
  input.io.stdout.write(`already running in the background (engine pid ${status.engine.pid}); logs in ${status.engine.logDir}\n`);
  return response.results.every((r) => r.ok) ? 0 : 1;
}

/** engine.log: never through a link planted in its place, never another user's file. */
function openRuntimeFile(file: string): number {
  try {
    return openOwnFile(file, 'append');
  } catch (error) {
    throw new TendError('TEND_RUNTIME_DIR', error instanceof Error ? error.message : String(error), { cause: error });
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
  } catch {
    return '(no output)';
  }
}
