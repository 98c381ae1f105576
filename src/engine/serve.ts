// One engine for one project, serving its control API. Standalone (the foreground `tend up`) it
// takes the project lock, ends what a dead engine left running (by recorded PID and start
// time) and runs services itself. Under a keeper (`tend up -d`) the keeper holds the lock, the
// processes and the logs, and hands over the state of the engine before — so a new engine
// carries on with the same PIDs. Either way: reload on request, stop everything on shutdown.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { ActionResponse, DownResponse, EngineInfo, ReloadResponse } from '../api/protocol.js';
import { protocolVersion } from '../api/protocol.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import { formatDiagnostics } from '../config/format.js';
import { loadConfigIsolated } from '../config/load-isolated.js';
import { planReload } from '../config/plan.js';
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import type { HostListener, ProcessHost } from '../host/host.js';
import { createKeeperHost, type KeeperHost, type KeeperLink } from '../host/keeper-client.js';
import type { KeeperToEngine } from '../host/keeper-protocol.js';
import { openCgroups, type Cgroups } from '../host/cgroup.js';
import { createLocalHost } from '../host/local.js';
import { openOwnFile } from '../lib/own-file.js';
import { logDirsOf, prepareLogDir } from '../logs/log-files.js';
import { endLeftovers } from '../runtime/leftovers.js';
import { acquireLock } from '../runtime/lock.js';
import { ensurePrivateDir, projectPaths, type ProjectPaths } from '../runtime/runtime-dir.js';
import { createStateJournal, readState, recordOf, type StateJournal } from '../runtime/state-file.js';
import { createEngine, type Engine, type EngineObserver } from './engine.js';
import type { UnitOutcome } from './outcomes.js';

/** How often max_memory is checked: a /proc scan costs ~1 ms per 100 processes. */
const MEMORY_CHECK_MS = Number(process.env.TEND_MEMORY_CHECK_MS) || 5000;

export type KeeperHello = Extract<KeeperToEngine, { type: 'hello' }>;

export interface ServeOptions {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly observer: EngineObserver;
  readonly version: string;
  /** Present when a keeper started this engine: its first message and the channel back. */
  readonly keeper?: { readonly hello: KeeperHello; readonly link: KeeperLink };
}

export interface Session {
  readonly engine: Engine;
  readonly paths: ProjectPaths;
  /** Outcomes of the initial start of every unit (none when carrying on from a previous engine). */
  readonly started: Promise<UnitOutcome[]>;
  /** Resolves once a shutdown (signal, `down`) has stopped everything and cleaned up. */
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  reload(): Promise<ReloadResponse>;
  /** Under a keeper: feed it every message the keeper sends. */
  receive(message: KeeperToEngine): void;
}

export async function serve(options: ServeOptions): Promise<Session> {
  const paths = projectPaths(options.config.file, options.env);
  ensurePrivateDir(paths);
  if (options.keeper) return startSession({ ...options, paths, releaseLock: () => {}, journal: null, cgroups: null });
  const lock = await acquireLock(paths, options.config.file);
  try {
    const previous = readState(paths.state);
    if (previous) {
      for (const ended of await endLeftovers(previous)) options.observer.warning(`ended ${ended.unit} (pid ${ended.pid}), left running by an engine that died`);
    }
    // In the foreground the engine spawns, so it writes the PID journal itself, and holds the cgroups.
    const cgroups = openCgroups(`tend-${paths.id}`);
    const journal = createStateJournal(paths.state, recordOf(process.pid) ?? { pid: process.pid, startTime: 0 }, options.observer.warning, cgroups?.root);
    return await startSession({ ...options, paths, releaseLock: () => lock.release(), journal, cgroups });
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startSession(options: ServeOptions & { paths: ProjectPaths; releaseLock: () => void; journal: StateJournal | null; cgroups: Cgroups | null }): Promise<Session> {
  const { env, cwd, observer, version, paths, keeper, journal, cgroups } = options;
  // Under a keeper the keeper holds the cgroups and says where they are.
  const cgroupRoot = keeper ? (keeper.hello.cgroupRoot ?? null) : (cgroups?.root ?? null);
  // Under a keeper, the running config is the one the last engine committed, not the file.
  const config = (keeper?.hello.state?.config as Config | undefined) ?? options.config;
  prepareLogDirs(config); // refused before anything starts: no service may run with its logs unsafe
  fs.rmSync(paths.socket, { force: true }); // we hold the project (lock or keeper): any socket here is stale

  const keeperHost: { current: KeeperHost | null } = { current: null };
  const makeHost = keeper
    ? (listener: HostListener): ProcessHost => (keeperHost.current = createKeeperHost(keeper.link, keeper.hello.liveUnits)(listener))
    : (listener: HostListener): ProcessHost => createLocalHost(listener, { ...(journal ? { journal } : {}), cgroups });
  const engine = createEngine({ config, baseEnv: env, makeHost, observer, cgroupRoot });
  const startedAt = new Date().toISOString();
  const containment = cgroupRoot === null ? { containment: 'process-group' as const, cgroupRoot: null } : { containment: 'cgroup' as const, cgroupRoot };
  const info = (): EngineInfo => ({ pid: process.pid, keeperPid: keeper?.hello.keeperPid ?? null, version, protocol: protocolVersion, configFile: config.file, logDir: engine.config().logDir, startedAt, ...containment });

  let shuttingDown: Promise<void> | null = null;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let api: ApiServer | null = null;
  let memoryTimer: NodeJS.Timeout | undefined;
  let upgradeRefused: ((reason: string) => void) | null = null;

  const armMemoryWatch = () => {
    clearInterval(memoryTimer);
    if (engine.config().services.some((s) => s.max_memory !== undefined)) {
      memoryTimer = setInterval(() => engine.checkMemory(), MEMORY_CHECK_MS);
      memoryTimer.unref();
    }
  };

  /** Close the API and files; under a keeper also tell it (`down`: it exits after us). */
  const closeSession = async (keeperMessage: 'down' | null) => {
    clearInterval(memoryTimer);
    await api?.close();
    engine.close();
    fs.rmSync(paths.socket, { force: true });
    // The journal is the spawner's: ours in the foreground (every group is empty now), the keeper's otherwise.
    journal?.remove();
    cgroups?.remove();
    if (keeper && keeperMessage) await new Promise<void>((resolve) => keeper.link.send({ type: keeperMessage }, resolve));
    options.releaseLock();
    finish();
  };

  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      await engine.shutdown();
      await closeSession('down');
    })();
    return shuttingDown;
  };

  /** A new engine takes over (upgrade): leave every service as it is. */
  const retire = (): void => {
    shuttingDown ??= closeSession(null);
  };

  const reload = async (): Promise<ReloadResponse> => {
    const loaded = await loadConfigIsolated({ file: config.file, cwd, env: { ...env } });
    if (!loaded.ok) {
      const details = formatDiagnostics(loaded.diagnostics, { cwd }).split('\n');
      throw new TendError('TEND_RELOAD_REJECTED', `${loaded.diagnostics.length} problem(s) in ${loaded.file}`, { details });
    }
    prepareLogDirs(loaded.config);
    // The API listener belongs to this process: an `api` change waits for a restart of the engine.
    const plan = planReload(engine.config(), loaded.config);
    const next = plan.inForce;
    const { started, stopped } = await engine.replaceConfig(next, plan);
    const restarted: string[] = [];
    for (const name of plan.restart) {
      const wanted = next.services.find((s) => s.name === name)?.instances ?? 0;
      const running = engine.status().filter((u) => u.service === name).length;
      if (wanted < running) await engine.scale(name, wanted); // fewer to restart
      restarted.push(...(await engine.runInTurn('restart', engine.select([name]))).map((o) => o.unit));
      if (wanted > running) await engine.scale(name, wanted); // new ones start with the new config
    }
    for (const change of plan.scale) await engine.scale(change.service, change.to);
    armMemoryWatch();
    const touched = new Set([...plan.start, ...plan.stop, ...plan.restart]);
    return {
      started: started.map((o) => o.unit),
      stopped: stopped.map((o) => o.unit),
      restarted,
      unchanged: engine.status().filter((u) => !touched.has(u.service)).map((u) => u.unit),
      notes: plan.notes,
    };
  };

  // Stop the services and answer; the API server calls onDown once the answer is out, and only
  // then does the session close its socket and finish (exiting earlier would cut the answer).
  const down = async (): Promise<DownResponse> => {
    const before = engine.status().filter((u) => u.pid !== null);
    await engine.shutdown();
    return { results: before.map((u) => ({ unit: u.unit, phase: 'stopped', pid: null, ok: true, message: 'stopped' })), engine: info() };
  };

  /** Ask the keeper to run the engine now on disk; resolves once it accepted (we retire next). */
  const upgrade = async (): Promise<ActionResponse> => {
    if (!keeper) throw new TendError('TEND_UPGRADE_REFUSED', 'this engine runs without a keeper (foreground `tend up`): restart it instead');
    const refused = new Promise<never>((_, reject) => {
      upgradeRefused = (reason) => reject(new TendError('TEND_UPGRADE_REFUSED', reason));
    });
    keeper.link.send({ type: 'upgrade' });
    const accepted = new Promise<ActionResponse>((resolve) => {
      retireAccepted = () => resolve({ results: [{ unit: 'engine', phase: 'running', pid: process.pid, ok: true, message: 'handing over to the engine on disk' }] });
    });
    return Promise.race([refused, accepted]);
  };
  let retireAccepted: (() => void) | null = null;

  // Carry on from the last engine BEFORE answering anyone: a request in between would see every
  // unit stopped, and a start sent then could make a second copy.
  if (keeper?.hello.state) {
    engine.restore(keeper.hello.state);
    keeperHost.current?.replay(keeper.hello.pending);
  }

  try {
    const { createControl } = await import('./control.js');
    const tcp = config.api ? { host: config.api.host, port: config.api.port, token: apiToken(env, paths) } : undefined;
    api = await startApiServer({
      control: createControl({ engine, info, reload, down, upgrade }),
      socketPath: paths.socket,
      onDown: () => void (shuttingDown ??= closeSession('down')),
      onInternalError: (error) => observer.warning(`internal error in an API call: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      ...(tcp ? { tcp } : {}),
    });
  } catch (error) {
    engine.close();
    throw error;
  }
  armMemoryWatch();

  const started = keeper?.hello.state ? Promise.resolve([]) : engine.run('start', engine.select([]));

  const receive = (message: KeeperToEngine): void => {
    switch (message.type) {
      case 'events':
      case 'ping':
        keeperHost.current?.receive(message);
        return;
      case 'retire':
        if (retireAccepted) retireAccepted();
        // Let the upgrade answer leave first; the API closes right after.
        setImmediate(retire);
        return;
      case 'upgrade-refused':
        upgradeRefused?.(message.reason);
        return;
      case 'shutdown':
        void shutdown();
        return;
      case 'hello':
        return; // only the first one counts
    }
  };

  return { engine, paths, started, finished, shutdown, reload, receive };
}

/** Creates every log directory of the config (private unless widened) and refuses unsafe ones. */
function prepareLogDirs(config: Config): void {
  for (const { dir, access } of logDirsOf(config)) prepareLogDir(dir, access);
}

/** TEND_API_TOKEN, or a random token written to the project's runtime dir (0600) for scripts to read. */
function apiToken(env: Readonly<Record<string, string | undefined>>, paths: ProjectPaths): string {
  if (env.TEND_API_TOKEN) return env.TEND_API_TOKEN;
  const token = randomBytes(24).toString('base64url');
  let fd: number;
  try {
    fd = openOwnFile(paths.token, 'truncate'); // 0600, never through a link planted in its place
  } catch (error) {
    throw new TendError('TEND_RUNTIME_DIR', error instanceof Error ? error.message : String(error), { cause: error });
  }
  try {
    fs.writeSync(fd, `${token}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return token;
}
