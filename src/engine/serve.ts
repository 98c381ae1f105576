// One engine for one project, serving its control API: take the project lock, end what a dead
// engine left running (by recorded PID and start time), start the fleet, answer on the socket,
// reload on request or SIGHUP, and on shutdown stop everything and clean up. Used by the
// foreground `tend up` (with a terminal observer) and by the background engine of `up -d`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { ActionResponse, EngineInfo, ReloadResponse } from '../api/protocol.js';
import { protocolVersion } from '../api/protocol.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import { formatDiagnostics } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { planReload } from '../config/plan.js';
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import { createEngine, type Engine, type EngineObserver } from './engine.js';
import { endLeftovers } from './leftovers.js';
import { acquireLock } from './lock.js';
import { ensurePrivateDir, projectPaths, type ProjectPaths } from './runtime-dir.js';
import { readState, recordOf, writeState, type RecordedProcess } from './state-file.js';
import type { UnitOutcome } from './outcomes.js';

/** How often max_memory is checked: a /proc scan costs ~1 ms per 100 processes. */
const MEMORY_CHECK_MS = Number(process.env.TEND_MEMORY_CHECK_MS) || 5000;

export interface ServeOptions {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly observer: EngineObserver;
  readonly version: string;
}

export interface Session {
  readonly engine: Engine;
  readonly paths: ProjectPaths;
  /** Outcomes of the initial start of every unit. */
  readonly started: Promise<UnitOutcome[]>;
  /** Resolves once a shutdown (signal, `down`) has stopped everything and cleaned up. */
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  reload(): Promise<ReloadResponse>;
}

export async function serve({ config, env, cwd, observer, version }: ServeOptions): Promise<Session> {
  const paths = projectPaths(config.file, env);
  ensurePrivateDir(paths);
  const lock = await acquireLock(paths, config.file);
  try {
    return await startSession({ config, env, cwd, observer, version, paths, releaseLock: () => lock.release() });
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startSession(options: ServeOptions & { paths: ProjectPaths; releaseLock: () => void }): Promise<Session> {
  const { config, env, cwd, observer, version, paths } = options;
  const previous = readState(paths.state);
  if (previous) {
    for (const ended of await endLeftovers(previous)) observer.warning(`ended ${ended.unit} (pid ${ended.pid}), left running by an engine that died`);
  }
  fs.rmSync(paths.socket, { force: true }); // the lock is ours: any socket file here is stale

  const units: Record<string, RecordedProcess> = {};
  const engineRecord = recordOf(process.pid) ?? { pid: process.pid, startTime: 0 };
  let stateDirty = false;
  const saveState = () => {
    if (stateDirty) return;
    stateDirty = true;
    setImmediate(() => {
      stateDirty = false;
      for (const unit of engine.status()) {
        if (unit.pid === null) delete units[unit.id];
        else if (units[unit.id]?.pid !== unit.pid) {
          const record = recordOf(unit.pid);
          if (record) units[unit.id] = record;
        }
      }
      writeState(paths.state, { engine: engineRecord, units });
    });
  };

  const engine = createEngine({
    config,
    baseEnv: env,
    observer: {
      ...observer,
      notice(record) {
        if (record.kind === 'spawned' || record.kind === 'stopped' || record.kind === 'exited') saveState();
        observer.notice(record);
      },
    },
  });
  const startedAt = new Date().toISOString();
  const info = (): EngineInfo => ({ pid: process.pid, version, protocol: protocolVersion, configFile: config.file, logDir: engine.config().logDir, startedAt });

  let shuttingDown: Promise<void> | null = null;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let api: ApiServer | null = null;
  let memoryTimer: NodeJS.Timeout | undefined;

  const armMemoryWatch = () => {
    clearInterval(memoryTimer);
    if (engine.config().services.some((s) => s.max_memory !== undefined)) {
      memoryTimer = setInterval(() => engine.checkMemory(), MEMORY_CHECK_MS);
      memoryTimer.unref();
    }
  };

  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      clearInterval(memoryTimer);
      await engine.shutdown();
      await api?.close();
      engine.close();
      fs.rmSync(paths.socket, { force: true });
      fs.rmSync(paths.state, { force: true });
      options.releaseLock();
      finish();
    })();
    return shuttingDown;
  };

  const reload = async (): Promise<ReloadResponse> => {
    const loaded = loadConfig({ file: config.file, cwd, env });
    if (!loaded.ok) {
      const details = formatDiagnostics(loaded.diagnostics, { cwd }).split('\n');
      throw new TendError('TEND_RELOAD_REJECTED', `${loaded.diagnostics.length} problem(s) in ${loaded.file}`, { details });
    }
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
  const down = async (): Promise<ActionResponse> => {
    const before = engine.status().filter((u) => u.pid !== null);
    await engine.shutdown();
    return { results: before.map((u) => ({ unit: u.unit, phase: 'stopped', pid: null, ok: true, message: 'stopped' })) };
  };

  try {
    const { createControl } = await import('./control.js');
    const tcp = config.api ? { host: config.api.host, port: config.api.port, token: apiToken(env, paths) } : undefined;
    api = await startApiServer({
      control: createControl({ engine, info, reload, down }),
      socketPath: paths.socket,
      onDown: () => void shutdown(),
      onInternalError: (error) => observer.warning(`internal error in an API call: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      ...(tcp ? { tcp } : {}),
    });
  } catch (error) {
    engine.close();
    throw error;
  }
  armMemoryWatch();
  const started = engine.run('start', engine.select([]));
  return { engine, paths, started, finished, shutdown, reload };
}

/** TEND_API_TOKEN, or a random token written to the project's runtime dir (0600) for scripts to read. */
function apiToken(env: Readonly<Record<string, string | undefined>>, paths: ProjectPaths): string {
  if (env.TEND_API_TOKEN) return env.TEND_API_TOKEN;
  const token = randomBytes(24).toString('base64url');
  fs.writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
  return token;
}
