// The engine with a fake host and a numeric clock: no processes, no real time. The fake host
// records every call and the test plays the world's part (a process spawned, exited, a group
// gone); the clock moves only when a test advances it. Covers commands and their answers
// (superseded ones included), restarts by policy, scale, reload plans, restore after an engine
// restart, and policy on the monotonic clock while the wall clock jumps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfigText } from '../config/load.js';
import { planReload } from '../config/plan.js';
import type { Config } from '../config/schema.js';
import type { HostListener, ProcessHost, SavedState, SpawnSpec } from '../host/host.js';
import type { Clock } from './clock.js';
import { createEngine, type Engine } from './engine.js';
import { coalesced } from './reload.js';

/** Monotonic and wall time move together unless a test jumps the wall clock. */
function fakeClock(wallAtZero = 1_800_000_000_000) {
  let now = 1_000_000;
  let wallOffset = wallAtZero - now; // the wall clock reads wallAtZero at the start
  const timers: Array<{ at: number; fire: () => void; live: boolean }> = [];
  const clock: Clock = {
    now: () => now,
    wall: () => now + wallOffset,
    setTimer(delayMs, fire) {
      const timer = { at: now + Math.max(0, delayMs), fire, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
  };
  return {
    clock,
    /** Moves both clocks, firing due timers in order. */
    async advance(ms: number): Promise<void> {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        now = due.at;
        due.live = false;
        due.fire();
        await settle();
      }
      now = until;
    },
    /** The wall clock alone (an operator, NTP): policy must not notice. */
    jumpWall(ms: number): void {
      wallOffset += ms;
    },
  };
}

/** Lets the engine's per-turn work (commits, resting checks) and promise chains run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function fakeHost() {
  let listener: HostListener | null = null;
  let nextPid = 100;
  const spawned: SpawnSpec[] = [];
  const stops: string[] = [];
  const live = new Map<string, number>();
  const commits: SavedState[] = [];
  const host: ProcessHost = {
    spawn: (spec) => void spawned.push(spec),
    stopGroup: (unit) => void stops.push(unit),
    signalGroup: (unit) => live.has(unit),
    killAll: () => live.clear(),
    liveUnits: () => [...live.keys()],
    commit: (state) => void commits.push(state),
    close: () => {},
    logStats: async () => ({}),
  };
  const tell = (event: Parameters<HostListener['event']>[0]) => listener?.event(event);
  return {
    make: (l: HostListener) => ((listener = l), host),
    spawned,
    stops,
    commits,
    /** The last spawn of the unit happened: it now runs under a new pid. */
    started(unit: string): number {
      const pid = nextPid++;
      live.set(unit, pid);
      tell({ type: 'spawned', unit, pid });
      return pid;
    },
    /** The process wrote its ready line on the notification fd (pid: a stale one, for a test of that). */
    notified(unit: string, pid = live.get(unit) ?? 0): void {
      tell({ type: 'notified', unit, pid });
    },
    /** The process exited by itself, its group empty. */
    exited(unit: string, code: number | null, signal: NodeJS.Signals | null = null): void {
      const pid = live.get(unit) ?? 0;
      live.delete(unit);
      tell({ type: 'exited', unit, pid, code, signal, groupEmpty: true });
    },
    /** Answers a stop: the process exits by the signal, then the group is gone. */
    stopped(unit: string, forced = false): void {
      const pid = live.get(unit);
      live.delete(unit);
      if (pid !== undefined) tell({ type: 'exited', unit, pid, code: null, signal: forced ? 'SIGKILL' : 'SIGTERM', groupEmpty: false });
      tell({ type: 'group-gone', unit, forced });
    },
    spawnsOf: (unit: string) => spawned.filter((s) => s.unit === unit).length,
  };
}

function configOf(t: TestContext, yaml: string): Config {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-engine-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const loaded = loadConfigText({ text: yaml, file: path.join(dir, 'tend.yaml'), env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  fs.mkdirSync(loaded.config.logDir, { recursive: true });
  // These tests play the world step by step: a start answers at its spawn unless a test is about
  // min_uptime (and names it), instead of after the default second on the fake clock.
  if (yaml.includes('min_uptime')) return loaded.config;
  return { ...loaded.config, services: loaded.config.services.map((s) => ({ ...s, min_uptime: 0 })) };
}

function setUp(
  t: TestContext,
  yaml: string,
  extra: { clock?: ReturnType<typeof fakeClock>; host?: ReturnType<typeof fakeHost>; config?: Config } = {},
) {
  const time = extra.clock ?? fakeClock();
  const host = extra.host ?? fakeHost();
  const config = extra.config ?? configOf(t, yaml);
  const notices: string[] = [];
  const engine = createEngine({
    config,
    host: host.make,
    observer: { output: () => {}, notice: (r) => void notices.push(`${r.label} ${r.kind}`), warning: (text) => assert.fail(text) },
    baseEnv: {},
    clock: time.clock,
    random: () => 0,
  });
  t.after(() => engine.close());
  return { engine, host, time, notices, config };
}

const phaseOf = (engine: Engine, unit: string) => engine.status().find((u) => u.label === unit)?.phase;

test('start: the unit is spawned with its environment and log, and the command answers once it runs', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [server]\n    env: { A: "1" }\n');
  const answer = engine.run('start', engine.select(['web']));
  await settle();
  assert.equal(host.spawned.length, 1);
  const [spec] = host.spawned;
  assert.equal(spec?.unit, 'web.0');
  assert.deepEqual(spec?.argv, ['server']);
  assert.equal(spec?.env.A, '1');
  assert.equal(spec?.env.TEND_SERVICE, 'web');
  assert.match(spec?.log.file ?? '', /web\.log$/);
  const pid = host.started('web.0');
  assert.deepEqual(await answer, [{ unit: 'web.0', label: 'web', phase: 'running', pid, ok: true, message: `started (pid ${pid})` }]);
  assert.deepEqual(await engine.run('start', engine.select(['web'])), [
    { unit: 'web.0', label: 'web', phase: 'running', pid, ok: true, message: `already running (pid ${pid})` },
  ]);
});

test('a crash is restarted after the backoff delay, on the engine clock', async (t) => {
  const { engine, host, time } = setUp(t, 'services:\n  web:\n    command: [server]\n    backoff: { initial: 2s, max: 1m }\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  host.exited('web.0', 1);
  await settle();
  assert.equal(phaseOf(engine, 'web'), 'backoff');
  await time.advance(1999);
  assert.equal(host.spawnsOf('web.0'), 1, 'not before the delay');
  await time.advance(1);
  assert.equal(host.spawnsOf('web.0'), 2);
  host.started('web.0');
  assert.equal(engine.status()[0]?.restarts, 1);
});

test('restart: stop, wait for the group, spawn again; the answer names the new pid', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [server]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  const answer = engine.run('restart', engine.select(['web']));
  await settle();
  assert.deepEqual(host.stops, ['web.0']);
  host.stopped('web.0');
  await settle();
  const pid = host.started('web.0');
  assert.deepEqual((await answer)[0], { unit: 'web.0', label: 'web', phase: 'running', pid, ok: true, message: `restarted (pid ${pid})` });
});

test('a stop superseded by a restart answers too, saying so (first cause wins in the core)', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [server]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  const stop = engine.run('stop', engine.select(['web']));
  await settle();
  const restart = engine.run('restart', engine.select(['web']));
  await settle();
  host.stopped('web.0');
  await settle();
  const pid = host.started('web.0');
  assert.deepEqual((await stop)[0], {
    unit: 'web.0',
    label: 'web',
    phase: 'running',
    pid,
    ok: false,
    message: `superseded by a later restart: running again (pid ${pid})`,
  });
  assert.equal((await restart)[0]?.message, `restarted (pid ${pid})`);
});

test('a restart superseded by a stop answers "superseded by a later stop"; so does a start', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [server]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  const restart = engine.run('restart', engine.select(['web']));
  const start = engine.run('start', engine.select(['web']));
  await settle();
  const stop = engine.run('stop', engine.select(['web']));
  await settle();
  host.stopped('web.0');
  await settle();
  assert.equal((await restart)[0]?.message, 'superseded by a later stop: stopped');
  assert.equal((await start)[0]?.message, 'superseded by a later stop: stopped');
  assert.deepEqual((await stop)[0], { unit: 'web.0', label: 'web', phase: 'stopped', pid: null, ok: true, message: 'stopped' });
});

test('61 requests racing on one unit all get an answer', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [server]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  const kinds = ['stop', 'restart', 'start'] as const;
  const answers: Array<Promise<unknown>> = [];
  for (let i = 0; i < 61; i += 1) {
    answers.push(engine.run(kinds[i % 3] ?? 'start', engine.select(['web'])));
    await settle();
    // The world answers whatever is pending, now and then, as a slow service would.
    if (i % 7 === 6) {
      if (host.stops.length > 0 && phaseOf(engine, 'web') === 'stopping') host.stopped('web.0');
      await settle();
      if (phaseOf(engine, 'web') === 'starting') host.started('web.0');
    }
  }
  for (let round = 0; round < 5; round += 1) {
    if (phaseOf(engine, 'web') === 'stopping') host.stopped('web.0');
    await settle();
    if (phaseOf(engine, 'web') === 'starting') host.started('web.0');
    await settle();
  }
  const settled = await Promise.all(answers);
  assert.equal(settled.length, 61);
});

test('a command whose unit never settles is answered after its stop timeout and the backstop', async (t) => {
  const { engine, host, time } = setUp(t, 'services:\n  web:\n    command: [server]\n    stop: { timeout: 10s }\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  const stop = engine.run('stop', engine.select(['web']));
  await settle();
  await time.advance(10_000 + 5 * 60_000);
  const [answer] = await stop;
  assert.equal(answer?.ok, false);
  assert.match(answer?.message ?? '', /^no answer after 310 s: still stopping/);
});

test('scale adds instances (started) and removes the highest (stopped, then forgotten)', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  worker:\n    command: [work]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('worker.0');
  const up = engine.scale('worker', 3);
  await settle();
  assert.deepEqual(
    host.spawned.map((s) => s.unit),
    ['worker.0', 'worker.1', 'worker.2'],
  );
  host.started('worker.1');
  host.started('worker.2');
  assert.deepEqual(
    (await up).map((o) => o.unit),
    ['worker.1', 'worker.2'],
  );
  assert.deepEqual(
    engine.status().map((u) => u.label),
    ['worker.0', 'worker.1', 'worker.2'],
  );
  const down = engine.scale('worker', 1);
  await settle();
  assert.deepEqual(host.stops.sort(), ['worker.1', 'worker.2']);
  host.stopped('worker.1');
  host.stopped('worker.2');
  assert.deepEqual(
    (await down).map((o) => o.message),
    ['stopped', 'stopped'],
  );
  assert.deepEqual(
    engine.status().map((u) => u.label),
    ['worker'],
    'one instance left: shown by its name',
  );
});

test('a reload plan: new services start, removed ones stop, changed commands restart one by one, counts scale', async (t) => {
  const before =
    'services:\n  keep:\n    command: [a]\n  gone:\n    command: [b]\n  changed:\n    command: [c]\n    instances: 2\n  scaled:\n    command: [d]\n';
  const after =
    'services:\n  keep:\n    command: [a]\n  changed:\n    command: [c, --new]\n    instances: 2\n  scaled:\n    command: [d]\n    instances: 2\n  fresh:\n    command: [e]\n';
  const old = configOf(t, before);
  const loaded = loadConfigText({ text: after, file: old.file, env: {} });
  assert.ok(loaded.ok);
  const next = { ...loaded, config: { ...loaded.config, services: loaded.config.services.map((s) => ({ ...s, min_uptime: 0 })) } };
  const { engine, host } = setUp(t, '', { config: old });
  void engine.run('start', engine.select([]));
  await settle();
  for (const unit of ['keep.0', 'gone.0', 'changed.0', 'changed.1', 'scaled.0']) host.started(unit);
  const applying = engine.apply(planReload(old, next.config));
  // The world plays along until the plan is carried out.
  let done = false;
  void applying.then(() => (done = true));
  for (let round = 0; round < 20 && !done; round += 1) {
    await settle();
    for (const unit of host.stops.splice(0)) host.stopped(unit);
    await settle();
    for (const { unit } of engine.status().filter((u) => u.phase === 'starting')) host.started(unit);
  }
  const answer = await applying;
  assert.deepEqual(answer.stopped, ['gone']);
  assert.deepEqual(answer.started, ['fresh']);
  assert.deepEqual(answer.restarted, ['changed.0', 'changed.1']);
  assert.deepEqual(answer.scaled, ['scaled 1→2']);
  assert.deepEqual(answer.updated, []);
  assert.deepEqual(answer.unchanged, ['keep']);
  assert.deepEqual(
    engine.status().map((u) => `${u.label} ${u.phase}`),
    ['keep running', 'changed.0 running', 'changed.1 running', 'scaled.0 running', 'scaled.1 running', 'fresh running'],
  );
  assert.deepEqual(host.spawned.filter((s) => s.unit.startsWith('changed')).at(-1)?.argv, ['c', '--new']);
});

test('a new engine carries on from the committed state: same pids, restart counts, and the pending backoff', async (t) => {
  const time = fakeClock();
  const first = setUp(t, 'services:\n  web:\n    command: [server]\n    backoff: { initial: 10s }\n  api:\n    command: [api]\n', {
    clock: time,
  });
  void first.engine.run('start', first.engine.select([]));
  await settle();
  const apiPid = first.host.started('api.0');
  first.host.started('web.0');
  first.host.exited('web.0', 1);
  await settle();
  await time.advance(4000);
  // What the keeper kept: every commit merged, as keeper/relay.ts does.
  const kept = { config: undefined as unknown, units: {} as Record<string, unknown>, timers: {} as Record<string, unknown> };
  for (const commit of first.host.commits) {
    kept.config = commit.config ?? kept.config;
    Object.assign(kept.units, commit.units);
    Object.assign(kept.timers, commit.timers);
  }
  first.engine.close();
  time.jumpWall(-3_600_000); // the wall clock set back an hour between the two engines
  const host = fakeHost();
  const second = setUp(t, '', { clock: time, host, config: kept.config as Config });
  second.engine.restore(kept);
  assert.deepEqual(
    second.engine.status().map((u) => [u.label, u.phase, u.pid]),
    [
      ['web', 'backoff', null],
      ['api', 'running', apiPid],
    ],
  );
  await time.advance(5999);
  assert.equal(host.spawnsOf('web.0'), 0, 'the backoff keeps its deadline');
  await time.advance(1);
  assert.equal(host.spawnsOf('web.0'), 1, 'and fires on it, whatever the wall clock did');
});

test('the start limit counts on the monotonic clock: a wall clock set forward an hour does not reset it', async (t) => {
  const { engine, host, time } = setUp(
    t,
    'services:\n  web:\n    command: [crash]\n    backoff: { initial: 100ms, max: 100ms }\n    start_limit: { burst: 4, interval: 60s }\n',
  );
  void engine.run('start', engine.select([]));
  await settle();
  for (let life = 0; life < 6 && phaseOf(engine, 'web') !== 'fatal'; life += 1) {
    host.started('web.0');
    time.jumpWall(3_600_000);
    host.exited('web.0', 1);
    await settle();
    await time.advance(100);
  }
  assert.equal(phaseOf(engine, 'web'), 'fatal');
  assert.equal(host.spawnsOf('web.0'), 4, 'four starts within the window, then fatal');
});

test('reloads are coalesced: one runs, one waits, everyone gets an answer from one of them', async () => {
  let runs = 0;
  const pending: Array<() => void> = [];
  const reload = coalesced(() => {
    runs += 1;
    const n = runs;
    return new Promise<number>((resolve) => pending.push(() => resolve(n)));
  });
  const answers = Array.from({ length: 1000 }, () => reload());
  assert.equal(runs, 1, 'one runs');
  pending.shift()?.();
  await settle();
  assert.equal(runs, 2, 'the one that waited runs next, once');
  pending.shift()?.();
  const values = await Promise.all(answers);
  assert.equal(values[0], 1);
  assert.ok(
    values.slice(1).every((v) => v === 2),
    'every later request gets the reload that started after it',
  );
  assert.equal(runs, 2);
});

const stack = `services:
  db:
    command: [db]
  migrate:
    command: [migrate]
    restart: never
  web:
    command: [web]
    depends_on:
      db: { condition: started }
      migrate: { condition: completed }
`;

test('depends_on: each service starts once its conditions hold (started, completed), the independent ones at once', async (t) => {
  const { engine, host } = setUp(t, stack);
  const up = engine.run('start', engine.select([]));
  await settle();
  assert.deepEqual(
    host.spawned.map((s) => s.unit),
    ['db.0', 'migrate.0'],
    'web waits',
  );
  assert.deepEqual(engine.status().find((u) => u.label === 'web')?.waitingOn, { state: 'waiting', reason: 'db: starting' });
  host.started('db.0');
  host.started('migrate.0');
  await settle();
  assert.equal(host.spawnsOf('web.0'), 0, 'migrate has not completed yet');
  assert.deepEqual(engine.status().find((u) => u.label === 'web')?.waitingOn, { state: 'waiting', reason: 'migrate: not completed' });
  host.exited('migrate.0', 0);
  await settle();
  await settle();
  assert.equal(host.spawnsOf('web.0'), 1);
  const pid = host.started('web.0');
  const answers = await up;
  assert.deepEqual(
    answers.map((a) => [a.label, a.ok]),
    [
      ['db', true],
      ['migrate', true],
      ['web', true],
    ],
  );
  assert.equal(answers[2]?.message, `started (pid ${pid})`);
  assert.equal(engine.status().find((u) => u.label === 'web')?.waitingOn, null);
});

test('depends_on: a dependency that fails leaves its dependent blocked, answered as such; it starts once that recovers', async (t) => {
  const { engine, host } = setUp(t, stack);
  const up = engine.run('start', engine.select([]));
  await settle();
  host.started('db.0');
  host.started('migrate.0');
  host.exited('migrate.0', 3);
  await settle();
  await settle();
  const answers = await up;
  assert.deepEqual(answers[2], {
    unit: 'web.0',
    label: 'web',
    phase: 'stopped',
    pid: null,
    ok: false,
    message: 'blocked (migrate: exited (exit-code)); it starts once that recovers',
  });
  assert.deepEqual(engine.status().find((u) => u.label === 'web')?.waitingOn, { state: 'blocked', reason: 'migrate: exited (exit-code)' });
  assert.equal(host.spawnsOf('web.0'), 0, 'never started silently');
  void engine.run('start', engine.select(['migrate']), { dependencies: false });
  await settle();
  host.started('migrate.0');
  host.exited('migrate.0', 0);
  await settle();
  await settle();
  assert.equal(host.spawnsOf('web.0'), 1, 'started once migrate completed');
});

test('start NAME starts what it depends on first; with dependencies: false a stopped dependency blocks it; a stop drops the held start', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  db:\n    command: [db]\n  web:\n    command: [web]\n    depends_on: [db]\n');
  const alone = engine.run('start', engine.select(['web']), { dependencies: false });
  await settle();
  assert.deepEqual(
    host.spawned.map((s) => s.unit),
    [],
    'db is stopped and nobody starts it',
  );
  assert.equal((await alone)[0]?.message, 'blocked (db: stopped); it starts once that recovers');
  const stop = engine.run('stop', engine.select(['web']));
  assert.equal((await stop)[0]?.message, 'stopped');
  assert.equal(engine.status().find((u) => u.label === 'web')?.waitingOn, null, 'the stop dropped the held start');
  const both = engine.run('start', engine.select(['web']));
  await settle();
  assert.deepEqual(
    host.spawned.map((s) => s.unit),
    ['db.0'],
  );
  host.started('db.0');
  await settle();
  await settle();
  host.started('web.0');
  assert.deepEqual(
    (await both).map((o) => o.label),
    ['db', 'web'],
  );
});

test('down stops dependents before what they depend on', async (t) => {
  const { engine, host } = setUp(t, stack);
  void engine.run('start', engine.select([]));
  await settle();
  host.started('db.0');
  host.started('migrate.0');
  host.exited('migrate.0', 0);
  await settle();
  await settle();
  host.started('web.0');
  await settle();
  const down = engine.shutdown();
  await settle();
  assert.deepEqual(host.stops, ['web.0'], 'web first');
  host.stopped('web.0');
  await settle();
  await settle();
  assert.deepEqual(host.stops, ['web.0', 'db.0'], 'then db (migrate has completed: nothing to stop)');
  host.stopped('db.0');
  await down;
});

test('stop NAME is refused while running services depend on it; with dependents included they stop first', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  db:\n    command: [db]\n  web:\n    command: [web]\n    depends_on: [db]\n');
  void engine.run('start', engine.select([]));
  await settle();
  host.started('db.0');
  await settle();
  await settle();
  host.started('web.0');
  await settle();
  await assert.rejects(engine.run('stop', engine.select(['db'])), {
    code: 'TEND_HAS_DEPENDENTS',
    message: 'refusing to stop db: web depends on it and runs',
  });
  assert.deepEqual(host.stops, [], 'nothing was stopped');
  const stop = engine.run('stop', engine.select(['db']), { dependents: 'include' });
  await settle();
  assert.deepEqual(host.stops, ['web.0']);
  host.stopped('web.0');
  await settle();
  await settle();
  assert.deepEqual(host.stops, ['web.0', 'db.0']);
  host.stopped('db.0');
  assert.deepEqual(
    (await stop).map((o) => `${o.label} ${o.message}`),
    ['web stopped', 'db stopped'],
  );
});

/** Real I/O (a probe's socket) completes on its own time: wait for the fact, with a generous deadline. */
async function until(what: string, fact: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!fact()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function listener(t: TestContext): Promise<{ port: number; open: () => Promise<void> }> {
  const net = await import('node:net');
  // A free port, closed again: nothing listens there until open().
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const server = net.createServer((socket) => socket.destroy());
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { port, open: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)) };
}

test('readiness: a start answers once the probe passes; ps says not ready until then; the events say when', async (t) => {
  const db = await listener(t);
  const { engine, host, time, notices } = setUp(
    t,
    `services:\n  db:\n    command: [db]\n    readiness: { tcp: "127.0.0.1:${db.port}", period: 1s, failure_threshold: 2 }\n`,
  );
  let answered = false;
  const start = engine.run('start', engine.select(['db'])).then((outcomes) => ((answered = true), outcomes));
  await settle();
  const pid = host.started('db.0');
  await settle();
  assert.deepEqual(engine.status()[0]?.readiness, { state: 'pending', output: '' });
  await time.advance(0); // the first check, at once (initial_delay 0)
  await until('a failed check', () => (engine.status()[0]?.readiness?.output ?? '') !== '');
  assert.equal(engine.status()[0]?.readiness?.state, 'pending', 'one failure of two');
  assert.equal(answered, false);
  await db.open();
  await time.advance(1000);
  await until('ready', () => engine.status()[0]?.readiness?.state === 'ready');
  const [outcome] = await start;
  assert.equal(outcome?.message, `started (pid ${pid}), ready`);
  assert.ok(notices.includes('db ready'));
});

test('depends_on condition ready: the dependent waits for the probe, not for the process', async (t) => {
  const db = await listener(t);
  const { engine, host, time } = setUp(
    t,
    `services:\n  db:\n    command: [db]\n    readiness: { tcp: "127.0.0.1:${db.port}", period: 1s }\n  api:\n    command: [api]\n    depends_on: { db: { condition: ready } }\n`,
  );
  void engine.run('start', engine.select([]));
  await settle();
  host.started('db.0');
  await settle();
  await settle();
  assert.deepEqual(
    host.spawned.map((s) => s.unit),
    ['db.0'],
  );
  assert.deepEqual(engine.status().find((u) => u.label === 'api')?.waitingOn, { state: 'waiting', reason: 'db: not ready yet' });
  await db.open();
  await time.advance(0);
  await until('api to start', () => host.spawnsOf('api.0') === 1);
});

test('readiness: a first check that fails is tried again early, within the first period; early failures count for nothing', async (t) => {
  const db = await listener(t);
  const { engine, host, time } = setUp(
    t,
    `services:\n  db:\n    command: [db]\n    readiness: { tcp: "127.0.0.1:${db.port}", period: 10s, failure_threshold: 2 }\n`,
  );
  const start = engine.run('start', engine.select(['db']));
  await settle();
  const pid = host.started('db.0');
  await settle();
  const begun = time.clock.now();
  await time.advance(0);
  await until('a failed check', () => (engine.status()[0]?.readiness?.output ?? '') !== '');
  await time.advance(100); // early tries every 25 ms fail: were they counted, two failures would say not ready
  assert.equal(engine.status()[0]?.readiness?.state, 'pending');
  await db.open();
  await time.advance(100); // the next try passes, long before the period's next check at 10 s
  const [outcome] = await start;
  assert.equal(outcome?.message, `started (pid ${pid}), ready`);
  assert.ok(time.clock.now() - begun <= 200, `ready after ${time.clock.now() - begun} ms`);
});

test('readiness: failure_threshold failures in a row answer the start as not ready, with the probe output', async (t) => {
  const db = await listener(t);
  const { engine, host, time, notices } = setUp(
    t,
    `services:\n  db:\n    command: [db]\n    readiness: { tcp: "127.0.0.1:${db.port}", period: 1s, failure_threshold: 2 }\n`,
  );
  const start = engine.run('start', engine.select(['db']));
  await settle();
  host.started('db.0');
  await settle();
  await time.advance(0);
  await until('a failed check', () => (engine.status()[0]?.readiness?.output ?? '') !== '');
  await time.advance(1000);
  const [outcome] = await start;
  assert.equal(outcome?.ok, false);
  assert.match(outcome?.message ?? '', /^started \(pid \d+\) but not ready: 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  assert.ok(notices.includes('db not-ready'));
});

test('liveness: failure_threshold failures in a row stop the instance and restart it by policy, result liveness', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { engine, host, time, notices } = setUp(
    t,
    `services:\n  web:\n    command: [web]\n    liveness: { tcp: ${port}, period: 1s, failure_threshold: 2 }\n    backoff: { initial: 0 }\n`,
  );
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  await settle();
  await time.advance(0);
  await time.advance(1000);
  assert.deepEqual(host.stops, [], 'alive while it answers');
  await new Promise((resolve) => server.close(resolve));
  for (let tick = 0; tick < 10 && host.stops.length === 0; tick += 1) {
    await time.advance(1000);
    await until('a check', () => true);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the socket's refusal is real I/O
  }
  await until('the stop', () => host.stops.length === 1);
  assert.ok(notices.includes('web probe-failed'));
  host.stopped('web.0');
  await settle();
  await until('the restart', () => host.spawnsOf('web.0') === 2);
  assert.equal(engine.status()[0]?.lastResult, 'liveness');
});

test('startup: holds liveness off until it passes; failing it restarts the instance', async (t) => {
  const closed = await listener(t); // never opened: every check is refused
  const { engine, host, time, notices } = setUp(
    t,
    `services:\n  web:\n    command: [web]\n    startup: { tcp: ${closed.port}, period: 1s, failure_threshold: 2 }\n    liveness: { tcp: ${closed.port}, failure_threshold: 1 }\n`,
  );
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  await settle();
  for (let tick = 0; tick < 10 && host.stops.length === 0; tick += 1) {
    await time.advance(tick === 0 ? 0 : 1000);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the refusal is real I/O
  }
  await until('the stop', () => host.stops.length === 1);
  assert.deepEqual(
    notices.filter((n) => n === 'web probe-failed'),
    ['web probe-failed'],
    'one failure, of the startup probe: liveness (threshold 1) never ran',
  );
});

test('min_uptime: a start answers once the process has run that long; an exit before is a failed start', async (t) => {
  const { engine, host, time } = setUp(t, 'services:\n  web:\n    command: [web]\n    min_uptime: 2s\n    backoff: { initial: 1s }\n');
  let answered = false;
  const first = engine.run('start', engine.select([])).then((o) => ((answered = true), o));
  await settle();
  host.started('web.0');
  await time.advance(1999);
  assert.equal(answered, false, 'not before 2 s of uptime');
  await time.advance(1);
  assert.match((await first)[0]?.message ?? '', /^started \(pid \d+\)$/);
  const again = engine.run('restart', engine.select([]));
  await settle();
  host.stopped('web.0');
  await settle();
  host.started('web.0');
  await time.advance(500);
  host.exited('web.0', 1);
  const [outcome] = await again;
  assert.equal(outcome?.ok, false);
  assert.equal(outcome?.message, 'failed: exited with code 1; it will be retried');
});

test('schedule: a job starts at each time its cron expression names; a run that comes while the last goes on is skipped (or queued)', async (t) => {
  const time = fakeClock(Date.UTC(2027, 0, 15, 3, 0, 0)); // wall time at a whole minute
  const { engine, host, notices } = setUp(
    t,
    'services:\n  job:\n    command: [job]\n    restart: never\n    schedule: "*/10 * * * * *"\n  queued:\n    command: [q]\n    restart: never\n    schedule: { cron: "*/10 * * * * *", overlap: queue }\n',
    { clock: time },
  );
  assert.equal(host.spawned.length, 0, 'nothing runs before its time');
  assert.equal(engine.status()[0]?.nextRun, Date.UTC(2027, 0, 15, 3, 0, 10));
  await time.advance(10_000);
  assert.deepEqual(host.spawned.map((s) => s.unit).sort(), ['job.0', 'queued.0']);
  host.started('job.0');
  host.started('queued.0');
  await time.advance(10_000); // both still run
  assert.ok(notices.includes('job run-skipped'));
  assert.equal(host.spawnsOf('job.0'), 1);
  host.exited('job.0', 0);
  host.exited('queued.0', 0);
  await settle();
  await settle();
  assert.equal(host.spawnsOf('queued.0'), 2, 'the queued run follows at once');
  assert.equal(host.spawnsOf('job.0'), 1, 'the skipped one waits for its next time');
  await time.advance(10_000);
  assert.equal(host.spawnsOf('job.0'), 2);
});

test('schedule: the wall clock set back does not fire a run early; cron_restart restarts a running service', async (t) => {
  const time = fakeClock(Date.UTC(2027, 0, 15, 3, 0, 0));
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [web]\n    cron_restart: "0 * * * * *"\n', { clock: time });
  void engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  time.jumpWall(-30_000); // set back half a minute: the restart is now 90 s away on the wall
  await time.advance(60_000);
  assert.deepEqual(host.stops, [], 'not at the monotonic minute');
  await time.advance(30_000);
  assert.deepEqual(host.stops, ['web.0'], 'at the wall clock minute');
});

test('start of a scheduled job answers with its result; wait: false answers at the spawn', async (t) => {
  const time = fakeClock(Date.UTC(2027, 0, 15, 3, 0, 0));
  const { engine, host } = setUp(t, 'services:\n  backup:\n    command: [backup]\n    restart: never\n    schedule: "0 3 * * *"\n', {
    clock: time,
  });
  let answered = false;
  const run = engine.run('start', engine.select(['backup'])).then((o) => ((answered = true), o));
  await settle();
  host.started('backup.0');
  await time.advance(60_000);
  assert.equal(answered, false, 'still running');
  host.exited('backup.0', 2);
  const [outcome] = await run;
  assert.deepEqual([outcome?.ok, outcome?.message], [false, 'failed: exited with code 2']);
  const quick = engine.run('start', engine.select(['backup']), { wait: false });
  await settle();
  const pid = host.started('backup.0');
  assert.equal((await quick)[0]?.message, `started (pid ${pid})`);
});

test("readiness log: ready once a line of this life matches; an earlier life's line does not count", async (t) => {
  const { engine, host, time, config } = setUp(
    t,
    'services:\n  web:\n    command: [web]\n    readiness: { log: "listening on \\\\d+", period: 1s }\n',
  );
  const file = config.services[0]?.logs.file ?? '';
  const line = (text: string) => fs.appendFileSync(file, `${new Date().toISOString()} 0 out ${text}\n`);
  line('listening on 1111'); // an earlier life's
  const start = engine.run('start', engine.select([]));
  await settle();
  host.started('web.0');
  await settle();
  await time.advance(0);
  assert.equal(engine.status()[0]?.readiness?.state, 'pending');
  line('warming up');
  line('listening on 3000');
  await time.advance(1000);
  const [outcome] = await start;
  assert.match(outcome?.message ?? '', /^started \(pid \d+\), ready$/);
  assert.equal(engine.status()[0]?.readiness?.output, 'listening on 3000');
});

test('readiness fd: the spawn carries the notification fd; ready when this life writes its line, at once, with no polling', async (t) => {
  const { engine, host, time, notices } = setUp(t, 'services:\n  db:\n    command: [db]\n    readiness: { fd: 3 }\n');
  let answered = false;
  const start = engine.run('start', engine.select([])).then((outcomes) => ((answered = true), outcomes));
  await settle();
  assert.equal(host.spawned[0]?.notifyFd, 3);
  const pid = host.started('db.0');
  await settle();
  await time.advance(0);
  assert.deepEqual(engine.status()[0]?.readiness, { state: 'pending', output: 'no ready line on fd 3 yet' });
  host.notified('db.0', pid - 1); // an earlier life's line
  await settle();
  await time.advance(60_000); // no check is scheduled: time alone changes nothing
  assert.equal(engine.status()[0]?.readiness?.state, 'pending');
  assert.equal(answered, false);
  host.notified('db.0');
  const [outcome] = await start;
  assert.equal(outcome?.message, `started (pid ${pid}), ready`);
  assert.deepEqual(engine.status()[0]?.readiness, { state: 'ready', output: 'ready line on fd 3' });
  assert.ok(notices.includes('db ready'));
});

test('depends_on restart: true — a dependent is restarted when its dependency comes back from a restart', async (t) => {
  const { engine, host } = setUp(
    t,
    'services:\n  db:\n    command: [db]\n  web:\n    command: [web]\n    depends_on: { db: { condition: started, restart: true } }\n  other:\n    command: [other]\n    depends_on: [db]\n',
  );
  void engine.run('start', engine.select([]));
  await settle();
  host.started('db.0');
  await settle();
  await settle();
  host.started('web.0');
  host.started('other.0');
  await settle();
  void engine.run('restart', engine.select(['db']));
  await settle();
  host.stopped('db.0');
  await settle();
  host.started('db.0');
  await settle();
  assert.deepEqual(host.stops, ['db.0', 'web.0'], 'web restarts with db; other (restart: false) does not');
});

test('a start while a start is under way joins it: both are answered started, with the one pid', async (t) => {
  const { engine, host } = setUp(t, 'services:\n  web:\n    command: [web]\n');
  const first = engine.run('start', engine.select([]));
  await settle();
  const second = engine.run('start', engine.select([])); // web is starting: no second spawn
  await settle();
  assert.equal(host.spawnsOf('web.0'), 1);
  const pid = host.started('web.0');
  assert.deepEqual([(await first)[0]?.message, (await second)[0]?.message], [`started (pid ${pid})`, `started (pid ${pid})`]);
  assert.equal((await second)[0]?.ok, true);
});

test('usage history: sampled only while someone listens, every 10 s, and 15 minutes after the last one left', async (t) => {
  const { engine, time } = setUp(t, 'services:\n  web:\n    command: [server]\n');
  await time.advance(60_000);
  assert.equal(engine.usageHistory().length, 0, 'nobody listened: nothing was sampled');
  const seen: number[] = [];
  const stop = engine.onUsageSample((tick) => seen.push(tick.at));
  assert.equal(seen.length, 1, 'a new listener gets a sample at once');
  await time.advance(30_000);
  assert.equal(seen.length, 4);
  assert.deepEqual(
    seen.map((at) => at - (seen[0] ?? 0)),
    [0, 10_000, 20_000, 30_000],
  );
  stop();
  await time.advance(15 * 60_000);
  const kept = engine.usageHistory().length;
  assert.equal(kept, 90, 'sampling lingered 15 minutes after the listener left; the ring keeps 90');
  await time.advance(60 * 60_000);
  assert.equal(engine.usageHistory().length, kept, 'then it stopped');
  const again: number[] = [];
  engine.onUsageSample((tick) => again.push(tick.at));
  assert.equal(engine.usageHistory().length, 1, 'a ring older than its span is dropped: no line across the gap');
});
