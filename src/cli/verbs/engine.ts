// The engine's entry under a keeper (`tend up -d` starts the keeper, the keeper starts
// `tend engine --keeper --file FILE`). It waits for the keeper's hello, carries on from the
// state it hands over (or starts the fleet on a first start), serves the API, and tells the
// keeper how the first start went. `--capabilities` answers the keeper's pre-upgrade check.
import type { EngineCapabilities, KeeperToEngine } from '../../host/keeper-protocol.js';
import { onKeeperMessage, sendToKeeper, whenKeeperLost } from '../keeper-channel.js';
import { isTendError, TendError } from '../../errors.js';
import type { Config } from '../../config/schema.js';
import { loadOrExplain } from '../load.js';
import type { Verb, VerbInput } from '../verb.js';
import { version } from '../version.js';
import type { EngineHello } from './up.js';

/** The keeper protocols this engine speaks (see host/keeper-protocol.ts): every one, not just the newest. */
const KEEPER_PROTOCOLS = [2];

const log = (text: string) => process.stderr.write(`${new Date().toISOString()} engine ${process.pid}: ${text}\n`);
const announce = (message: EngineHello) => sendToKeeper({ type: 'announce', message });

export const engineVerb: Verb = {
  name: 'engine',
  summary: 'Run the engine of a project under its keeper (what `tend up -d` starts).',
  args: '',
  options: {
    keeper: { type: 'boolean', description: 'Talk to the keeper over the IPC channel (required).' },
    capabilities: { type: 'boolean', description: 'Print the version and keeper protocols this engine speaks, as JSON.' },
  },
  details: 'Internal: use `tend up -d`.',
  hidden: true,
  async run(input) {
    if (input.values.capabilities) {
      // Test-only: TEND_TEST_ADVERTISE_PROTOCOLS makes this engine claim other protocols, so a
      // test can see the keeper refuse an upgrade it cannot speak.
      const advertised = input.io.env.TEND_TEST_ADVERTISE_PROTOCOLS?.split(',').map(Number) ?? KEEPER_PROTOCOLS;
      const capabilities: EngineCapabilities = { version: version(), keeperProtocols: advertised };
      input.io.stdout.write(`${JSON.stringify(capabilities)}\n`);
      return 0;
    }
    if (!input.values.keeper || !process.send) throw new TendError('TEND_USAGE', 'tend engine runs under a keeper; use `tend up -d`');
    // From the first moment: if the keeper goes, end what its journal names and exit — also
    // while this engine is still waiting for its hello or loading its config.
    let exitWith: (code: number) => void = () => {};
    const exit = new Promise<number>((resolve) => (exitWith = resolve));
    const { projectPaths } = await import('../../runtime/runtime-dir.js');
    onKeeperLoss(projectPaths(String(input.values.file ?? ''), input.io.env).state, process.ppid, exitWith);
    // kill or SIGTERM of the engine alone: exit and let the keeper start a new one; services stay.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => exitWith(0));
    return Promise.race([serveUnderKeeper(input), exit]);
  },
};

async function serveUnderKeeper(input: VerbInput): Promise<number> {
  // Messages can arrive before the session exists (events); hold them until it does.
  const early: KeeperToEngine[] = [];
  let deliver: (message: KeeperToEngine) => void = (message) => void early.push(message);
  const hello = await new Promise<Extract<KeeperToEngine, { type: 'hello' }>>((resolve) => {
    onKeeperMessage((raw) => {
      const message = raw as KeeperToEngine;
      if (message.type === 'hello') resolve(message);
      else deliver(message);
    });
  });
  try {
    if (!KEEPER_PROTOCOLS.includes(hello.protocol)) {
      throw new TendError('TEND_ENGINE_START_FAILED', `this engine speaks keeper protocol ${KEEPER_PROTOCOLS.join(', ')}, the keeper ${hello.protocol}`);
    }
    // A new engine carries on with the config in force, not whatever the file says now.
    const config = ((hello.state?.config ?? hello.config) as Config | undefined) ?? (await loadOrExplain(input));
    const { serve } = await import('../../engine/serve.js');
    const session = await serve({
      config,
      env: input.io.env,
      cwd: input.io.cwd,
      version: version(),
      observer: { output: () => {}, notice: () => {}, warning: (text) => log(`warning: ${text}`) },
      keeper: { hello, link: { send: sendToKeeper } },
    });
    deliver = (message) => session.receive(message);
    for (const message of early.splice(0)) session.receive(message);
    process.on('SIGHUP', () => {
      session.reload().then(
        () => log('reloaded on SIGHUP'),
        (error: unknown) => log(`reload on SIGHUP rejected: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
    if (input.io.env.TEND_TEST_FAULT === 'hang-on-usr2') process.on('SIGUSR2', hang);
    log(`serving ${config.file} (${hello.reason})`);
    const results = await session.started;
    announce({ type: 'ready', results }); // every engine: the keeper judges its restarts by it; only the first reaches `up -d`
    await session.finished;
    return 0;
  } catch (error) {
    if (!isTendError(error)) throw error;
    announce({ type: 'error', code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), details: error.details });
    throw error;
  }
}

/**
 * The keeper is gone (the IPC channel closed): nobody holds the services' pipes any more — end
 * every group its PID journal names (spawns it was in the middle of included), then exit. Only
 * a journal written by our own keeper counts: a new keeper may already have written its own.
 */
function onKeeperLoss(stateFile: string, keeperPid: number, exitWith: (code: number) => void): void {
  whenKeeperLost(() => {
    log('the keeper is gone: stopping every service group, then exiting');
    void (async () => {
      const [{ readState }, { endLeftovers }] = await Promise.all([import('../../runtime/state-file.js'), import('../../runtime/leftovers.js')]);
      const state = readState(stateFile);
      if (state?.holder.pid === keeperPid) await endLeftovers(state);
      exitWith(1);
    })();
  });
}

/** Test-only: block the event loop so the keeper's heartbeat finds the engine hung. */
function hang(): void {
  for (;;) {
    // spin
  }
}
