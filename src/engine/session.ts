// One engine for one project, serving its control API until a shutdown. `serve` is the
// foreground `tend up`: it takes the project lock, ends what a dead engine left running (by
// recorded PID and start time), and runs the data plane in this process with its own PID
// journal and cgroups. Under a keeper (`tend up -d`, under-keeper.ts) the keeper holds the lock,
// the processes and the logs, and `openSession` is given its side of the host instead.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { ActionResponse, AuditEntry, DownResponse, EngineInfo, ReloadResponse } from '../api/protocol.js';
import { protocolVersion } from '../api/protocol.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import { openCgroups } from '../host/cgroup.js';
import { createDataPlane } from '../host/data-plane.js';
import type { HostListener, ProcessHost } from '../host/host.js';
import { deferred } from '../lib/deferred.js';
import { openOwnFile } from '../lib/own-file.js';
import { endLeftovers } from '../runtime/leftovers.js';
import { acquireLock } from '../runtime/lock.js';
import { ensurePrivateDir, projectPaths, type ProjectPaths } from '../runtime/runtime-dir.js';
import { createStateJournal, readState, recordOf } from '../runtime/state-file.js';
import { createEngine, type Engine, type EngineObserver } from './engine.js';
import type { UnitOutcome } from './outcomes.js';
import { auditRecord } from './audit.js';
import { coalesced, planOnly, prepareLogDirs, reloadFrom } from './reload.js';

export interface SessionBase {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly observer: EngineObserver;
  readonly version: string;
  /** What to start (`tend up NAME...`), with what it depends on; absent or empty: every service. */
  readonly only?: readonly string[];
}

export interface SessionOptions extends SessionBase {
  readonly paths: ProjectPaths;
  readonly host: (listener: HostListener) => ProcessHost;
  readonly cgroupRoot: string | null;
  readonly keeperPid: number | null;
  /** Under a keeper, after an engine before this one: carry on from its state before anyone is answered. */
  readonly carryOn?: (engine: Engine) => void;
  /** Replace this engine with the code on disk (under a keeper); absent: refused. */
  readonly upgrade?: () => Promise<ActionResponse>;
  /** Last step of closing: `down` when every service was stopped, null when retiring (upgrade). */
  readonly closed?: (how: 'down' | null) => Promise<void> | void;
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
  /** Close the API and leave every service as it is: a new engine takes over. */
  retire(): void;
}

/** The foreground engine: lock, leftovers, journal and cgroups, then the session. */
export async function serve(options: SessionBase): Promise<Session> {
  const paths = projectPaths(options.config.file, options.env);
  ensurePrivateDir(paths);
  const lock = await acquireLock(paths, options.config.file);
  try {
    const previous = readState(paths.state);
    if (previous) {
      for (const ended of await endLeftovers(previous))
        options.observer.warning(`ended ${ended.unit} (pid ${ended.pid}), left running by an engine that died`);
    }
    // In the foreground the engine spawns, so it writes the PID journal itself, and holds the cgroups.
    const cgroups = openCgroups(`tend-${paths.id}`);
    const journal = createStateJournal(
      paths.state,
      recordOf(process.pid) ?? { pid: process.pid, startTime: 0 },
      options.observer.warning,
      cgroups?.root,
    );
    const host = (listener: HostListener) => createDataPlane(listener, { journal, cgroups, warn: options.observer.warning });
    return await openSession({
      ...options,
      paths,
      host,
      cgroupRoot: cgroups?.root ?? null,
      keeperPid: null,
      closed: () => {
        journal.remove(); // every group is empty now
        cgroups?.remove();
        lock.release();
      },
    });
  } catch (error) {
    lock.release();
    throw error;
  }
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const { config, env, cwd, observer, version, paths, cgroupRoot, keeperPid } = options;
  prepareLogDirs(config); // refused before anything starts: no service may run with its logs unsafe
  fs.rmSync(paths.socket, { force: true }); // we hold the project (lock or keeper): any socket here is stale
  const engine = createEngine({ config, baseEnv: env, host: options.host, observer, cgroupRoot });
  const startedAt = new Date(engine.startedAt).toISOString();
  const containment =
    cgroupRoot === null ? { containment: 'process-group' as const, cgroupRoot: null } : { containment: 'cgroup' as const, cgroupRoot };
  const info = (): EngineInfo => ({
    pid: process.pid,
    keeperPid,
    version,
    protocol: protocolVersion,
    configFile: config.file,
    logDir: engine.config().logDir,
    startedAt,
    ...containment,
    tcp: api?.tcpAddress ?? null,
    node: process.version,
  });
  const reload = coalesced(async () => {
    try {
      const result = await reloadFrom(engine, { file: config.file, cwd, env });
      const changed = (result.services ?? []).filter((change) => change.action !== 'keep');
      const done = { start: 'started', stop: 'stopped', restart: 'restarted', update: 'updated in place', keep: 'unchanged' } as const;
      const summary = changed.map(
        (c) =>
          `${c.service} ${c.scale ? `scaled ${c.scale.from}→${c.scale.to}` : done[c.action]}${c.keys.length > 0 ? ` (${c.keys.join(', ')})` : ''}`,
      );
      engine.recordTend({ kind: 'reloaded', summary: summary.length === 0 ? 'nothing changed' : summary.join('; ') });
      return result;
    } catch (error) {
      engine.recordTend({ kind: 'reload-rejected', reason: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  });

  let closing: Promise<void> | null = null;
  const finished = deferred<void>();
  let api: ApiServer | null = null;

  /** Close the API and files, then the caller's last step (the keeper hears `down`, the lock goes). */
  const close = (how: 'down' | null): Promise<void> =>
    (closing ??= (async () => {
      await api?.close();
      engine.close();
      fs.rmSync(paths.socket, { force: true });
      await options.closed?.(how);
      finished.resolve();
    })());

  let stopping: Promise<void> | null = null;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      await engine.shutdown();
      await close('down');
    })());

  // Stop the services and answer; the API server calls onDown once the answer is out, and only
  // then does the session close its socket and finish (exiting earlier would cut the answer).
  const down = async (): Promise<DownResponse> => {
    const before = engine.status().filter((u) => u.pid !== null);
    await engine.shutdown();
    return {
      results: before.map((u) => ({ unit: u.unit, label: u.label, phase: 'stopped', pid: null, ok: true, message: 'stopped' })),
      engine: info(),
    };
  };
  const upgrade =
    options.upgrade ??
    (() =>
      Promise.reject(
        new TendError('TEND_UPGRADE_REFUSED', 'this engine runs without a keeper (foreground `tend up`): restart it instead'),
      ));

  // Carry on from the last engine BEFORE answering anyone: a request in between would see every
  // unit stopped, and a start sent then could make a second copy.
  options.carryOn?.(engine);
  try {
    const { createControl } = await import('./control.js');
    const tcp = config.api ? { host: config.api.host, port: config.api.port, token: apiToken(env, paths) } : undefined;
    api = await startApiServer({
      audit: (entry) => engine.recordTend(auditRecord(entry)),
      control: createControl({
        engine,
        info,
        reload: (request) => (request?.dryRun ? planOnly(engine, { file: config.file, cwd, env }) : reload()),
        down,
        upgrade,
      }),
      socketPath: paths.socket,
      onDown: () => void close('down'),
      onInternalError: (error) =>
        observer.warning(`internal error in an API call: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
      ...(tcp ? { tcp } : {}),
    });
  } catch (error) {
    engine.close();
    throw error;
  }

  // Jobs with a schedule wait for it, unless named; everything else starts now.
  const only = options.only ?? [];
  const scheduled = new Set(
    engine
      .config()
      .services.filter((s) => s.schedule !== null && !only.includes(s.name))
      .map((s) => s.name),
  );
  let chosen: ReturnType<Engine['select']>;
  try {
    chosen = engine.select(only).filter((ref) => !scheduled.has(ref.service));
  } catch (error) {
    await close(null);
    throw error;
  }
  const started = options.carryOn ? Promise.resolve([]) : engine.run('start', chosen);
  // Only a SIGHUP reloads through here (the API has its own door): audited as such, once per
  // coalesced reload (a storm of SIGHUPs shares one reload, one answer and one record).
  const audited = new WeakMap<Promise<ReloadResponse>, Promise<ReloadResponse>>();
  const reloadOnSignal = (): Promise<ReloadResponse> => {
    const running = reload();
    const known = audited.get(running);
    if (known) return known;
    const record = (result: AuditEntry['result']) =>
      engine.recordTend(auditRecord({ action: 'reload', source: 'sighup', request: {}, result }));
    const told = running.then(
      (result) => (record(result), result),
      (error: unknown) => {
        record({ error: error instanceof Error ? error.message : String(error) });
        throw error;
      },
    );
    audited.set(running, told);
    return told;
  };
  return { engine, paths, started, finished: finished.promise, shutdown, reload: reloadOnSignal, retire: () => void close(null) };
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
