// The keeper: the data plane of a project, small and rarely changed. It is the parent of the
// engine and of every service; it spawns, signals and reaps them (host/local), holds their
// pipes and writes their log files, and keeps the engine alive — respawned after a crash or a
// hang, replaced on upgrade — handing each new engine the state and the events it has not seen.
// It decides nothing: every spawn and signal is an order from the engine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { HostListener, OutputStream } from '../host/host.js';
import {
  KEEPER_PROTOCOL,
  type EngineCapabilities,
  type EngineToKeeper,
  type HostCall,
  type KeeperToEngine,
  type NumberedEvent,
  type SavedState,
} from '../host/keeper-protocol.js';
import { createLocalHost } from '../host/local.js';
import { createUnitLogs } from '../logs/unit-logs.js';

/**
 * Heartbeat: a ping every 2 s; an engine silent for 5 s is hung and replaced. Rare enough to
 * cost nothing idle (each ping is one IPC round trip), quick enough that a hung engine is
 * replaced well before anyone gives up on `tend ps`.
 */
const PING_MS = 2000;
const HANG_MS = 5000;
/**
 * A dead engine is replaced at once — the API must answer again within a second — up to 30
 * times a minute; past that it is a crash loop and each further respawn waits twice as long
 * (100 ms up to 5 s), so a broken engine costs the machine almost nothing.
 */
const FREE_RESPAWNS_PER_MINUTE = 30;
const respawnDelay = (recent: number) => (recent < FREE_RESPAWNS_PER_MINUTE ? 0 : Math.min(5000, 100 * 2 ** (recent - FREE_RESPAWNS_PER_MINUTE)));

export interface KeeperOptions {
  /** argv of the engine: [node, ...execArgv, main.js, 'engine', '--keeper', '--file', FILE]. */
  readonly engineArgv: readonly string[];
  /** argv that prints the engine's EngineCapabilities (checked before an upgrade). */
  readonly probeArgv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly log: (text: string) => void;
}

export function runKeeper({ engineArgv, probeArgv, cwd, env, log }: KeeperOptions): Promise<number> {
  let engine: ChildProcess | null = null;
  let seq = 0;
  let pending: NumberedEvent[] = [];
  const saved: { config?: unknown; units: Record<string, unknown>; timers: Record<string, unknown> } = { units: {}, timers: {} };
  let hasState = false;
  let lastPong = Date.now();
  let respawns: number[] = [];
  let nextReason: 'start' | 'respawn' | 'upgrade' = 'start';
  let stopping: 'down' | 'shutdown' | null = null;
  let retiring = false;
  let announced = false;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  const logs = createUnitLogs({ warn: (text) => log(`warning: ${text}`) });
  let onGroupGone: ((unit: string) => void) | null = null;

  const send = (message: KeeperToEngine): void => {
    if (engine?.connected) engine.send(message);
  };

  const listener: HostListener = {
    event(event) {
      seq += 1;
      pending.push({ seq, event });
      send({ type: 'event', seq, event });
      if (event.type === 'group-gone') onGroupGone?.(event.unit);
    },
    output: (unit: string, stream: OutputStream, chunk: Buffer) => void logs.output(unit, stream, chunk),
    outputEnd: (unit: string, stream: OutputStream) => void logs.end(unit, stream),
  };
  const host = createLocalHost(listener);

  function apply(call: HostCall): void {
    switch (call.op) {
      case 'spawn':
        logs.route(call.spec.unit, call.spec.log);
        host.spawn(call.spec);
        return;
      case 'stop-group':
        host.stopGroup(call.unit, call.options);
        return;
      case 'signal-group':
        host.signalGroup(call.unit, call.signal);
        return;
      case 'kill-all':
        host.killAll();
        return;
    }
  }

  function commit(message: Extract<EngineToKeeper, { type: 'commit' }>): void {
    pending = pending.filter((numbered) => numbered.seq > message.ackSeq);
    const state: SavedState = message.state;
    if (state.config !== undefined) saved.config = state.config;
    for (const [key, value] of Object.entries(state.units ?? {})) value === null ? delete saved.units[key] : (saved.units[key] = value);
    for (const [key, value] of Object.entries(state.timers ?? {})) value === null ? delete saved.timers[key] : (saved.timers[key] = value);
    hasState ||= state.config !== undefined;
    for (const call of message.calls) apply(call);
  }

  function onMessage(message: EngineToKeeper): void {
    switch (message.type) {
      case 'commit':
        return commit(message);
      case 'pong':
        lastPong = Date.now();
        return;
      case 'upgrade':
        return void upgrade();
      case 'down':
        stopping = 'down';
        return;
      case 'announce':
        announced = true;
        // The `up -d` waiting for this keeper hears how the first start went, then lets go.
        if (process.connected) process.send?.(message.message, () => process.disconnect());
        return;
    }
  }

  /** Check that the engine now on disk speaks our protocol, then retire the running one. */
  async function upgrade(): Promise<void> {
    const refuse = (reason: string) => send({ type: 'upgrade-refused', reason });
    const [program = '', ...args] = probeArgv;
    execFile(program, args, { cwd, env, timeout: 10_000 }, (error, stdout) => {
      if (error) return refuse(`the engine on disk did not start: ${error.message.split('\n')[0]}`);
      let capabilities: EngineCapabilities;
      try {
        capabilities = JSON.parse(stdout) as EngineCapabilities;
      } catch {
        return refuse('the engine on disk did not say which keeper protocols it speaks');
      }
      if (!capabilities.keeperProtocols.includes(KEEPER_PROTOCOL)) {
        return refuse(
          `the engine on disk (tend ${capabilities.version}) speaks keeper protocol ${capabilities.keeperProtocols.join(', ')}, ` +
            `this keeper speaks ${KEEPER_PROTOCOL}: run \`tend down && tend up -d\` to replace the keeper too (this restarts every service)`,
        );
      }
      log(`upgrading the engine to tend ${capabilities.version}`);
      retiring = true;
      nextReason = 'upgrade';
      send({ type: 'retire' });
    });
  }

  function startEngine(): void {
    const [program = '', ...args] = engineArgv;
    const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    engine = child;
    lastPong = Date.now();
    child.on('message', (message) => onMessage(message as EngineToKeeper));
    child.once('spawn', () => {
      const state: SavedState | null = hasState ? { config: saved.config, units: saved.units, timers: saved.timers } : null;
      send({ type: 'hello', protocol: KEEPER_PROTOCOL, keeperPid: process.pid, state, pending, liveUnits: host.liveUnits(), reason: nextReason });
      log(`engine ${child.pid} started (${nextReason})`);
    });
    child.once('exit', (code, signal) => onEngineExit(child, code, signal));
  }

  function onEngineExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (engine !== child) return;
    engine = null;
    if (stopping !== null) {
      if (host.liveUnits().length > 0) return stopWithoutEngine(); // it died before finishing the stop
      log('engine exited after stopping every service; keeper exiting');
      return finishKeeper(0);
    }
    if (retiring) {
      retiring = false;
      return startEngine(); // the upgrade: at once, with the state the old engine committed
    }
    if (!announced) {
      log('the first engine exited before it was ready; stopping');
      stopping = 'shutdown';
      return stopWithoutEngine();
    }
    respawns = respawns.filter((at) => Date.now() - at < 60_000);
    const delay = respawnDelay(respawns.length);
    respawns.push(Date.now());
    log(`engine ${child.pid} died (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`);
    nextReason = 'respawn';
    setTimeout(startEngine, delay);
  }

  const heartbeat = setInterval(() => {
    if (!engine?.connected) return;
    if (Date.now() - lastPong > HANG_MS) {
      log(`engine ${engine.pid} did not answer for ${HANG_MS} ms: killing it (a new one takes over)`);
      engine.kill('SIGKILL');
      return;
    }
    send({ type: 'ping', id: Date.now() });
  }, PING_MS);

  function finishKeeper(code: number): void {
    clearInterval(heartbeat);
    logs.close();
    finish(code);
  }

  /** SIGTERM/SIGINT (systemd stop, `kill`): the engine stops every service in order, then we exit. */
  const onSignal = () => {
    if (stopping !== null) return;
    stopping = 'shutdown';
    if (engine?.connected) send({ type: 'shutdown' });
    else stopWithoutEngine();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => engine?.kill('SIGHUP')); // reload is the engine's business

  /** No engine to order the stop: end every group ourselves (SIGTERM, then SIGKILL after 10 s). */
  function stopWithoutEngine(): void {
    const live = new Set(host.liveUnits());
    if (live.size === 0) return finishKeeper(0);
    onGroupGone = (unit) => {
      live.delete(unit);
      if (live.size === 0) finishKeeper(0);
    };
    for (const unit of live) host.stopGroup(unit, { signal: 'SIGTERM', timeoutMs: 10_000 });
  }

  startEngine();
  return done;
}
