// The keeper: the data plane of a project, small and rarely changed. It is the parent of the
// engine and of every service; it spawns, signals and reaps them and writes their log files
// (host/data-plane.ts, driven by the engine's commits through relay.ts), records every spawn
// ahead in the PID journal, and keeps the engine alive — respawned after a crash or a hang, replaced on upgrade — handing each new
// engine the state and the events it has not seen. It decides nothing: every spawn and signal
// is an order from the engine.
//
// The keeper never dies of anything an engine does. Each path, and how it ends:
// - the engine exits, is killed, or its channel closes (EPIPE included): handled — sends never
//   throw (they take a callback, and the child has an 'error' listener), the engine is
//   respawned with backoff;
// - a malformed message: handled — refused by keeper/messages.ts with a logged sentence;
// - an order that fails (a spawn refused by the host): handled — answered as spawn-failed;
// - the engine hangs: handled — keeper/heartbeat.ts tells hung from starved, then SIGKILL;
// - anything else that throws in the keeper is a bug of its own: keeper/main.ts SIGKILLs every
//   service group (the emergency hook below) and exits, so a broken keeper orphans nothing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Cgroups } from '../host/cgroup.js';
import { DEFAULT_GRACE_MS } from '../host/end-groups.js';
import type { SpawnJournal } from '../host/host.js';
import { KEEPER_PROTOCOL, type EngineCapabilities, type KeeperStatus, type KeeperToEngine } from '../host/keeper-protocol.js';
import { readStat } from '../host/proc.js';
import { deferred } from '../lib/deferred.js';
import { onEmergency } from '../lib/emergency.js';
import { createHeartbeat, PING_MS } from './heartbeat.js';
import { parseEngineMessage } from './messages.js';
import { createRelay } from './relay.js';

/**
 * When a dead engine is replaced. One that had become ready is replaced at once — the API must
 * answer again within a second — up to 30 times a minute, then each further respawn waits
 * twice as long (100 ms up to 5 s). One that died before it was ready (it cannot start: an
 * unsafe log_dir, a variable missing from the boot environment) is a failing start: retried at
 * once, then after 1 s, 2 s, 4 s … up to a minute, so a broken engine costs almost nothing and
 * the reason stays readable in `tend ps` (the last failure) and engine.log. Services keep the
 * keeper trying; with none left, it gives up after GIVE_UP_AFTER failed starts.
 */
const FREE_RESPAWNS_PER_MINUTE = 30;
const MAX_FAILED_START_DELAY_MS = 60_000;
/** Failed starts in a row after which a keeper that holds no service left gives up (exit 1): ~4 minutes. */
const GIVE_UP_AFTER = 10;
function respawnDelay({ recent, failedStarts }: { recent: number; failedStarts: number }): number {
  const crashLoop = recent < FREE_RESPAWNS_PER_MINUTE ? 0 : Math.min(5000, 100 * 2 ** (recent - FREE_RESPAWNS_PER_MINUTE));
  const failing = failedStarts <= 1 ? 0 : Math.min(MAX_FAILED_START_DELAY_MS, 1000 * 2 ** (failedStarts - 2));
  return Math.max(crashLoop, failing);
}

/** Milliseconds per clock tick of /proc/PID/stat (USER_HZ = 100). */
const MS_PER_TICK = 10;

export interface KeeperOptions {
  /** argv of the engine: [node, ...execArgv, main.js, 'engine', '--keeper', '--file', FILE]. */
  readonly engineArgv: readonly string[];
  /** argv that prints the engine's EngineCapabilities (checked before an upgrade). */
  readonly probeArgv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly log: (text: string) => void;
  /** The write-ahead PID journal of every spawn (runtime/state-file.ts); its records answer `status`. */
  readonly journal: SpawnJournal & { readonly units: ReadonlyMap<string, { readonly pid?: number } | object> };
  /** The config `tend up -d` validated, handed to the first engine (absent: it loads the file). */
  readonly firstConfig?: unknown;
  /** The services `up -d NAME...` named, for the first engine to start (absent: every one). */
  readonly firstOnly?: readonly string[];
  /** A cgroup per unit, or null: process groups only. */
  readonly cgroups: Cgroups | null;
}

export interface Keeper {
  /** The exit code, once every service is stopped (or the first start failed). */
  readonly done: Promise<number>;
  /** A request on the lock socket: `{ op: 'status' }` → KeeperStatus, `{ op: 'down' }` → stop everything. */
  answer(request: unknown): unknown;
}

export function runKeeper({ engineArgv, probeArgv, cwd, env, log, journal, firstConfig, firstOnly, cgroups }: KeeperOptions): Keeper {
  let engine: ChildProcess | null = null;
  let heartbeat: ReturnType<typeof createHeartbeat> | null = null;
  let respawns: number[] = [];
  let failedStarts = 0;
  let engineReady = false;
  let lastFailure: { at: number; wall: string; reason: string } | null = null;
  let nextEngineAt: number | null = null;
  let nextReason: 'start' | 'respawn' | 'upgrade' = 'start';
  let stopping: 'down' | 'shutdown' | null = null;
  let retiring = false;
  let announced = false;
  let exitCode = 0;
  let respawnTimer: NodeJS.Timeout | undefined;
  const done = deferred<number>();
  let onGroupGone: ((unit: string) => void) | null = null;
  // Pacing and give-up windows count on the monotonic clock: a wall clock set back must not stall them.
  const now = () => performance.now();
  const failure = (reason: string) => ({ at: now(), wall: new Date().toISOString(), reason });

  /** Best effort: a message to an engine that is gone is dropped (events stay pending until acknowledged). */
  const send = (message: KeeperToEngine): void => {
    const target = engine;
    if (!target?.connected) return;
    try {
      target.send(message, (error) => {
        if (error && engine === target) log(`could not reach engine ${target.pid}: ${error.message}`);
      });
    } catch (error) {
      log(`could not reach engine ${target.pid}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  // A log that cannot take a unit's output (a full disk) is reported to the engine like any
  // host fact (numbered, replayed to a new engine), so it shows in `tend events` and `ps`.
  const relay = createRelay({ journal, cgroups, log, send, onEvent: (event) => event.type === 'group-gone' && onGroupGone?.(event.unit) });
  const host = relay.plane;
  // A bug of the keeper's own (keeper/main.ts): whatever it held dies with it, nothing is orphaned.
  onEmergency(() => {
    relay.dropQueued();
    host.killAll();
  });

  function onMessage(from: ChildProcess, raw: unknown): void {
    if (from !== engine) return; // a retired engine's last words
    const parsed = parseEngineMessage(raw);
    if (!parsed.ok) return log(`ignored ${parsed.reason} from engine ${from.pid}`);
    const message = parsed.value;
    switch (message.type) {
      case 'commit':
        return relay.commit(message);
      case 'pong':
        heartbeat?.answer();
        return;
      case 'stats':
        return void relay.plane.logStats().then((logs) => send({ type: 'stats', id: message.id, logs }));
      case 'upgrade':
        return upgrade();
      case 'down':
        stopping = 'down';
        return;
      case 'announce': {
        // Only a ready engine counts as started: one that announces its failure exits next,
        // and a first start that failed ends the keeper (below, in engineGone).
        const said = message.message as { type?: unknown; message?: unknown } | null;
        if (said?.type === 'ready') {
          announced = true;
          engineReady = true;
          failedStarts = 0;
        } else if (typeof said?.message === 'string') lastFailure = failure(said.message);
        // The `up -d` waiting for this keeper hears how the first start went, then lets go.
        if (process.connected) process.send?.(message.message, () => (process.connected ? process.disconnect() : undefined));
        return;
      }
    }
  }

  /** Check that the engine now on disk speaks our protocol, then retire the running one. */
  function upgrade(): void {
    const refuse = (reason: string) => send({ type: 'upgrade-refused', reason });
    const [program = '', ...args] = probeArgv;
    execFile(program, args, { cwd, env, timeout: 10_000, maxBuffer: 64 * 1024 }, (error, stdout) => {
      if (error) return refuse(`the engine on disk did not start: ${error.message.split('\n')[0]}`);
      let capabilities: EngineCapabilities;
      try {
        capabilities = JSON.parse(stdout) as EngineCapabilities;
        if (!Array.isArray(capabilities.keeperProtocols)) throw new Error('no protocols');
      } catch {
        return refuse('the engine on disk did not say which keeper protocols it speaks');
      }
      if (!capabilities.keeperProtocols.includes(KEEPER_PROTOCOL)) {
        return refuse(
          `the engine on disk (tend ${String(capabilities.version)}) speaks keeper protocol ${capabilities.keeperProtocols.join(', ')}, ` +
            `this keeper speaks ${KEEPER_PROTOCOL}: run \`tend down && tend up -d\` to replace the keeper too (this restarts every service)`,
        );
      }
      log(`upgrading the engine to tend ${String(capabilities.version)}`);
      retiring = true;
      nextReason = 'upgrade';
      send({ type: 'retire' });
    });
  }

  function startEngine(): void {
    const [program = '', ...args] = engineArgv;
    let child: ChildProcess;
    try {
      child = spawn(program, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    } catch (error) {
      log(`could not start an engine: ${error instanceof Error ? error.message : String(error)}`);
      return engineGone(null, 'spawn error');
    }
    engine = child;
    engineReady = false;
    nextEngineAt = null;
    const pid = child.pid;
    heartbeat = createHeartbeat(
      () => engineCpuMs(pid),
      () => performance.now(),
    );
    child.on('message', (message) => onMessage(child, message));
    // EPIPE on a send, or a failed spawn (EAGAIN under a process limit): never thrown at us.
    child.on('error', (error) => {
      log(`engine ${child.pid ?? '(not started)'}: ${error.message}`);
      if (child.pid === undefined) onEngineExit(child, null, null);
    });
    child.once('spawn', () => {
      const config = nextReason === 'start' && firstConfig !== undefined ? { config: firstConfig } : {};
      const only = nextReason === 'start' && firstOnly !== undefined ? { only: firstOnly } : {};
      const previous = nextReason === 'respawn' && lastFailure !== null ? { lastFailure: lastFailure.reason } : {};
      send({
        type: 'hello',
        protocol: KEEPER_PROTOCOL,
        keeperPid: process.pid,
        ...relay.handover(),
        reason: nextReason,
        cgroupRoot: cgroups?.root ?? null,
        ...config,
        ...only,
        ...previous,
      });
      log(`engine ${child.pid} started (${nextReason})`);
    });
    child.once('exit', (code, signal) => onEngineExit(child, code, signal));
  }

  function onEngineExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (engine !== child) return;
    engine = null;
    heartbeat = null;
    engineGone(child.pid ?? null, signal ?? `code ${code}`);
  }

  function engineGone(pid: number | null, how: string): void {
    if (stopping !== null) {
      if (host.liveUnits().length > 0 || relay.queued > 0) return stopWithoutEngine(); // it died before finishing the stop
      log('engine exited after stopping every service; keeper exiting');
      return finishKeeper(0);
    }
    if (retiring) {
      retiring = false;
      return startEngine(); // the upgrade: at once, with the state the old engine committed
    }
    // A first engine that died before it committed anything could not start: nothing to keep. One
    // that committed runs services (it may have been waiting for them to be ready): replace it.
    if (!announced && !relay.committed) {
      log(`the first engine exited before it was ready (${how}); stopping`);
      stopping = 'shutdown';
      exitCode = 1; // `up -d` has said why; a boot unit's restart limit counts this
      return stopWithoutEngine();
    }
    if (engineReady) failedStarts = 0;
    else {
      failedStarts += 1;
      if (lastFailure === null || now() - lastFailure.at > 1000)
        lastFailure = failure(`it exited before it was ready (${how}); see engine.log`);
    }
    if (engineReady) lastFailure = failure(`it died (${how})`);
    if (failedStarts >= GIVE_UP_AFTER && host.liveUnits().length === 0 && relay.queued === 0) {
      // Nothing left to keep, and no engine will start (its config gone, say): stop trying.
      log(`the engine failed to start ${failedStarts} times in a row and no service is left to keep: keeper exiting`);
      exitCode = 1;
      stopping = 'shutdown';
      return finishKeeper(1);
    }
    respawns = respawns.filter((at) => now() - at < 60_000);
    const delay = respawnDelay({ recent: respawns.length, failedStarts });
    respawns.push(now());
    log(`engine ${pid ?? '(none)'} ${engineReady ? 'died' : 'failed to start'} (${how}); starting a new one in ${delay} ms`);
    nextReason = 'respawn';
    nextEngineAt = now() + delay;
    respawnTimer = setTimeout(startEngine, delay);
  }

  const ticker = setInterval(() => {
    const beat = heartbeat;
    const target = engine;
    if (!beat || !target?.connected) return;
    if (beat.tick() === 'alive') return send({ type: 'ping', id: Date.now() });
    // Before a verdict, read whatever is already waiting in the channel: if we were the slow
    // one, the answers are there.
    setImmediate(() => {
      if (engine !== target || heartbeat !== beat || beat.tick() === 'alive') return;
      log(`engine ${target.pid} is hung (${beat.describe()}, busy on the CPU or blocked): killing it (a new one takes over)`);
      target.kill('SIGKILL');
    });
  }, PING_MS);

  function finishKeeper(code: number): void {
    clearInterval(ticker);
    clearTimeout(respawnTimer);
    relay.close();
    done.resolve(Math.max(code, exitCode));
  }

  /**
   * SIGTERM/SIGINT (systemd stop, `kill`), or `down` on the lock socket while no engine answers:
   * the engine stops every service in order, then we exit; without one we stop them ourselves.
   */
  const onSignal = () => {
    if (stopping !== null) return;
    stopping = 'shutdown';
    clearTimeout(respawnTimer);
    if (engine?.connected) send({ type: 'shutdown' });
    else stopWithoutEngine();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => engine?.kill('SIGHUP')); // reload is the engine's business

  /** No engine to order the stop: end every group ourselves (tend's stop sequence, host/end-groups.ts). */
  function stopWithoutEngine(): void {
    const dropped = relay.dropQueued();
    if (dropped > 0) log(`dropped ${dropped} orders not yet carried out`);
    const live = new Set(host.liveUnits());
    if (live.size === 0) return finishKeeper(0);
    onGroupGone = (unit) => {
      live.delete(unit);
      if (live.size === 0) finishKeeper(0);
    };
    for (const unit of live) host.stopGroup(unit, { signal: 'SIGTERM', timeoutMs: DEFAULT_GRACE_MS });
  }

  startEngine();

  function status(): KeeperStatus {
    const units = [...journal.units].map(([unit, record]) => ({
      unit,
      pid: 'pid' in record && typeof record.pid === 'number' ? record.pid : null,
    }));
    return {
      keeperPid: process.pid,
      enginePid: engine?.pid ?? null,
      lastFailure: lastFailure === null ? null : { at: lastFailure.wall, reason: lastFailure.reason },
      nextEngineAt: nextEngineAt === null ? null : new Date(Date.now() + (nextEngineAt - now())).toISOString(),
      units,
    };
  }

  return {
    done: done.promise,
    answer(request) {
      const op = (request as { op?: unknown } | null)?.op;
      if (op === 'status') return status();
      if (op === 'down') {
        onSignal();
        return { stopping: true, keeperPid: process.pid };
      }
      return { error: 'unknown request: ask for {"op":"status"} or {"op":"down"}' };
    },
  };
}

function engineCpuMs(pid: number | undefined): number | null {
  const stat = pid === undefined ? null : readStat(pid);
  return stat === null ? null : stat.cpuTicks * MS_PER_TICK;
}
