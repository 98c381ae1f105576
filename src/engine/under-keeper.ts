// The engine's life under a keeper (`tend up -d` starts the keeper, the keeper starts
// `tend engine --keeper`): wait for the keeper's hello, carry on from the state it hands over
// (or start every service on a first start), serve the API, tell the keeper how the start went,
// route its messages (events, retire, shutdown, the upgrade handshake), and end with it: if the
// keeper goes, nobody holds the services' pipes any more, so every group its journal names is
// ended and the engine exits. The CLI's engine verb only wires this to the IPC channel.
import type { ActionResponse } from '../api/protocol.js';
import type { Config } from '../config/schema.js';
import { isTendError, TendError } from '../errors.js';
import { type Deferred, deferred } from '../lib/deferred.js';
import { createKeeperHost, type KeeperHost } from '../host/keeper-host.js';
import { ENGINE_KEEPER_PROTOCOLS, type EngineAnnouncement, type KeeperToEngine } from '../host/keeper-protocol.js';
import { endLeftovers } from '../runtime/leftovers.js';
import { projectPaths } from '../runtime/runtime-dir.js';
import { readState } from '../runtime/state-file.js';
import { openSession, type Session } from './session.js';

/** The engine's end of the IPC channel (cli/keeper-channel.ts, opened before anything heavy loads). */
interface KeeperChannel {
  /** Every message but pings, starting with those held so far. */
  onMessage(handler: (message: unknown) => void): void;
  send(message: unknown, callback?: () => void): void;
  /** `then` runs once the keeper is gone (at once if it already is). */
  whenLost(then: () => void): void;
}

export interface UnderKeeperOptions {
  readonly channel: KeeperChannel;
  /** The config file as named on the command line (for the runtime dir, before any hello). */
  readonly file: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly version: string;
  /** Reads the file, for a keeper that brought no config (it should always bring one). */
  readonly loadConfig: () => Promise<Config>;
  readonly log: (text: string) => void;
}

type Hello = Extract<KeeperToEngine, { type: 'hello' }>;

/** Resolves with the exit code: 0 after `down` or a signal, 1 when the keeper is gone. */
export function runUnderKeeper(options: UnderKeeperOptions): Promise<number> {
  const { channel, log } = options;
  const exit = deferred<number>();
  // From the first moment: if the keeper goes, end what its journal names and exit — also while
  // this engine still waits for its hello or loads its config. Only a journal written by our own
  // keeper counts: a new keeper may already have written its own.
  const keeperPid = process.ppid;
  const stateFile = projectPaths(options.file, options.env).state;
  channel.whenLost(() => {
    log('the keeper is gone: stopping every service group, then exiting');
    const state = readState(stateFile);
    // Its groups by PID only: the project's cgroups are the next keeper's to sweep (leftovers.ts).
    void (state?.holder.pid === keeperPid ? endLeftovers(state, { cgroups: false }) : Promise.resolve()).then(() => exit.resolve(1));
  });
  // kill or SIGTERM of the engine alone: exit and let the keeper start a new one; services stay.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => exit.resolve(0));
  return Promise.race([serve(options), exit.promise]);
}

async function serve(options: UnderKeeperOptions): Promise<number> {
  const { channel, log } = options;
  const announce = (message: EngineAnnouncement) => channel.send({ type: 'announce', message });
  // Messages can arrive before the session exists (events); hold them until it does.
  const early: KeeperToEngine[] = [];
  let deliver: (message: KeeperToEngine) => void = (message) => void early.push(message);
  const hello = await new Promise<Hello>((resolve) => {
    channel.onMessage((raw) => {
      const message = raw as KeeperToEngine;
      if (message.type === 'hello') resolve(message);
      else deliver(message);
    });
  });
  try {
    if (!ENGINE_KEEPER_PROTOCOLS.includes(hello.protocol)) {
      throw new TendError(
        'TEND_ENGINE_START_FAILED',
        `this engine speaks keeper protocol ${ENGINE_KEEPER_PROTOCOLS.join(', ')}, the keeper ${hello.protocol}`,
      );
    }
    // A new engine carries on with the config in force, not whatever the file says now.
    const config = ((hello.state?.config ?? hello.config) as Config | undefined) ?? (await options.loadConfig());
    let host: KeeperHost | null = null;
    const upgrading = createUpgrade(channel);
    const session: Session = await openSession({
      config,
      env: options.env,
      cwd: options.cwd,
      version: options.version,
      observer: { output: () => {}, notice: () => {}, warning: (text) => log(`warning: ${text}`) },
      paths: projectPaths(config.file, options.env),
      host: (listener) => (host = createKeeperHost(channel, hello.liveUnits)(listener)),
      cgroupRoot: hello.cgroupRoot ?? null,
      keeperPid: hello.keeperPid,
      ...(hello.only === undefined ? {} : { only: hello.only }),
      ...(hello.state ? { carryOn: (engine) => (engine.restore(hello.state ?? {}), host?.replay(hello.pending)) } : {}),
      upgrade: upgrading.request,
      closed: (how) => (how === null ? undefined : new Promise<void>((resolve) => channel.send({ type: how }, resolve))),
    });
    deliver = (message) => {
      switch (message.type) {
        case 'events':
        case 'stats':
          return host?.receive(message);
        case 'retire':
          upgrading.accepted();
          return void setImmediate(session.retire); // let the upgrade's answer leave first
        case 'upgrade-refused':
          return upgrading.refused(message.reason);
        case 'shutdown':
          return void session.shutdown();
        default:
          return; // pings are the channel's; only the first hello counts
      }
    };
    for (const message of early.splice(0)) deliver(message);
    let lastReload: Promise<unknown> | null = null;
    process.on('SIGHUP', () => {
      const reload = session.reload();
      if (reload === lastReload) return; // coalesced with one already reported
      lastReload = reload;
      reload.then(
        () => log('reloaded on SIGHUP'),
        (error: unknown) => log(`reload on SIGHUP rejected: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
    if (options.env.TEND_TEST_FAULT === 'hang-on-usr2') process.on('SIGUSR2', hang);
    log(`serving ${config.file} (${hello.reason})`);
    session.engine.recordTend({ kind: 'engine-started', reason: hello.reason, previous: hello.lastFailure ?? null });
    const results = await session.started;
    announce({ type: 'ready', results }); // every engine: the keeper judges its restarts by it; only the first reaches `up -d`
    await session.finished;
    return 0;
  } catch (error) {
    if (!isTendError(error)) throw error;
    announce({
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.details ? { details: error.details } : {}),
    });
    throw error;
  }
}

/** Ask the keeper to run the engine now on disk; answered once it accepted (this engine retires next) or refused. */
function createUpgrade(channel: KeeperChannel) {
  let pending: Deferred<ActionResponse> | null = null;
  return {
    /** Everyone asking while one upgrade is under way gets its answer. */
    request(): Promise<ActionResponse> {
      if (pending) return pending.promise;
      pending = deferred<ActionResponse>();
      channel.send({ type: 'upgrade' });
      return pending.promise;
    },
    accepted(): void {
      pending?.resolve({
        results: [
          { unit: 'engine', label: 'engine', phase: 'running', pid: process.pid, ok: true, message: 'handing over to the engine on disk' },
        ],
      });
      pending = null;
    },
    refused(reason: string): void {
      pending?.reject(new TendError('TEND_UPGRADE_REFUSED', reason));
      pending = null;
    },
  };
}

/** Test-only: block the event loop so the keeper's heartbeat finds the engine hung. */
function hang(): void {
  for (;;) {
    // spin
  }
}
