// The real CLI against a real background engine: every day-to-day verb, reload's diff by PIDs,
// a rejected reload, one engine per project, stale state recovered, socket permissions, the
// TCP listener's guards, rotation under load and max_memory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { isAlive } from '../../src/host/proc.js';
import { daemonProject, type Daemon } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { trackGroup } from '../helpers/leak-guard.js';
import { tendBin } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const service = (name: string, command: string, extra = '') => `  ${name}:\n    command: ${command}\n${extra}`;

async function up(d: Daemon): Promise<void> {
  const result = await d.tend(['up', '-d']);
  assert.equal(result.code, 0, `up -d: ${result.stdout}${result.stderr}`);
}

const gone = (pid: number) => waitFor(() => !isAlive(pid), { what: `pid ${pid} to be gone` });

test('up -d, ps, stop/start/restart, signal, scale, events, down: the whole day-to-day loop', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('web', argv('forever.mjs', 'graceful'), '    instances: 2\n')}${service('worker', argv('forever.mjs'))}`,
  });
  const started = await d.tend(['up', '-d']);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /web\.0\s+started \(pid \d+\)/);
  assert.match(started.stdout, /running in the background \(keeper pid \d+\)/);

  const table = await d.tend(['ps']);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^NAME\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+LAST EXIT\s+CPU\s+MEM$/m);
  assert.match(table.stdout, /^worker\s+running\s+\d+/m);
  const before = await d.pids();
  assert.equal(Object.keys(before).length, 3);

  const stopped = await d.tend(['stop', 'web']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /web\.0\s+stopped/);
  await gone(before['web.0'] ?? 0);
  assert.equal((await d.status()).units.find((u) => u.unit === 'web.1')?.phase, 'stopped');

  assert.equal((await d.tend(['start', 'web.1'])).code, 0);
  assert.match((await d.tend(['start', '--all'])).stdout, /web\.0\s+started/);
  assert.equal((await d.tend(['stop'])).code, 2, 'no name and no --all is a usage error');
  const restarted = await d.tend(['restart', 'worker']);
  assert.match(restarted.stdout, /worker\s+restarted \(pid \d+\)/);
  const after = await d.pids();
  assert.notEqual(after.worker, before.worker);
  assert.ok(after['web.0'], 'start --all started the stopped web.0');
  assert.equal((await d.tend(['restart', 'nope'])).stderr.trim().split('\n')[0], 'tend: there is no service named "nope" in the config');

  const signalled = await d.tend(['signal', 'web.1', 'TERM']);
  assert.match(signalled.stdout, /web\.1\s+sent SIGTERM/);
  await gone(after['web.1'] ?? 0);

  const scaled = await d.tend(['scale', 'worker=3']);
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.equal((await d.status()).units.filter((u) => u.service === 'worker' && u.phase === 'running').length, 3);
  await d.tend(['scale', 'worker=1']);
  assert.deepEqual(
    (await d.status()).units.filter((u) => u.service === 'worker').map((u) => u.label),
    ['worker'],
  );

  const events = await d.tend(['events', '--json', '-n', '500']);
  const kinds = events.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { kind: string }).kind);
  assert.ok(kinds.includes('spawned') && kinds.includes('stopped'), kinds.join(','));

  const { pid: engine, keeperPid: keeper } = (await d.status()).engine;
  assert.ok(keeper !== null, 'up -d runs under a keeper');
  const live = Object.values(await d.pids()).filter((pid): pid is number => pid !== null);
  const down = await d.tend(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /engine stopped/);
  // `down` returns once both are gone: no waiting here.
  assert.equal(isAlive(engine), false, 'engine');
  assert.equal(isAlive(keeper), false, 'keeper');
  for (const pid of live) assert.equal(isAlive(pid), false, `service ${pid} outlived down`);
  const none = await d.tend(['ps']);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /no engine is running for .*tend\.yaml/);
});

test('reload applies only the difference: same PID for unchanged, new for changed, removed stop, added start', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('keep', argv('forever.mjs'))}${service('change', argv('forever.mjs'), '    env: { V: "1" }\n    instances: 2\n')}${service('drop', argv('forever.mjs'))}`,
  });
  await up(d);
  const before = await d.pids();
  fs.writeFileSync(
    path.join(d.dir, 'tend.yaml'),
    `services:\n${service('keep', argv('forever.mjs'))}${service('change', argv('forever.mjs'), '    env: { V: "2" }\n    instances: 2\n')}${service('add', argv('forever.mjs'))}`,
  );
  const dry = await d.tend(['reload', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(
    dry.stdout,
    'dry run: nothing was changed\nSERVICE  CHANGE\nkeep     unchanged\nchange   would restart (env)\nadd      would start\ndrop     would stop\n',
  );
  assert.deepEqual(await d.pids(), before, 'a dry run changes nothing');
  const reload = await d.tend(['reload']);
  assert.equal(reload.code, 0, reload.stderr);
  assert.equal(reload.stdout, 'SERVICE  CHANGE\nkeep     unchanged\nchange   restarted (env)\nadd      started\ndrop     stopped\n');
  const after = await d.pids();
  assert.equal(after.keep, before.keep, 'unchanged service keeps its pid');
  assert.notEqual(after['change.0'], before['change.0']);
  assert.notEqual(after['change.1'], before['change.1']);
  assert.equal(after.drop, undefined);
  assert.ok(after.add);
  await gone(before.drop ?? 0);
  const environ = fs.readFileSync(`/proc/${after['change.0']}/environ`, 'utf8');
  assert.ok(environ.split('\0').includes('V=2'), 'the restarted instance runs the new config');
});

test('SIGHUP to the engine reloads like `tend reload`', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('keep', argv('forever.mjs'))}` });
  await up(d);
  const before = await d.status();
  fs.writeFileSync(
    path.join(d.dir, 'tend.yaml'),
    `services:\n${service('keep', argv('forever.mjs'))}${service('added', argv('forever.mjs'))}`,
  );
  process.kill(before.engine.pid, 'SIGHUP');
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'added')?.phase === 'running', {
    what: 'the added service to run',
  });
  assert.equal((await d.pids()).keep, before.units[0]?.pid);
});

test('an invalid config on reload is rejected with every problem and the running config stays in force', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}` });
  await up(d);
  const before = await d.pids();
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), `services:\n  web:\n    command: ["node"]\n    restart: sometimes\n    instance: 2\n`);
  const reload = await d.tend(['reload']);
  assert.equal(reload.code, 2);
  assert.match(reload.stderr, /tend\.yaml:4:14: services\.web\.restart: expected always, on-failure or never/);
  assert.match(reload.stderr, /tend\.yaml:5:5: services\.web: unknown key "instance" \(did you mean "instances"\?\)/);
  assert.match(reload.stderr, /reload rejected, the running config stays in force/);
  assert.deepEqual(await d.pids(), before);
});

test('one engine per project: up -d while it runs starts what is not running in it, and exits 0', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}${service('db', argv('forever.mjs'))}` });
  await up(d);
  const before = await d.status();
  assert.equal((await d.tend(['stop', 'web'])).code, 0);
  const second = await d.tend(['up', '-d']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^web\s+started \(pid \d+\)$/m);
  assert.match(second.stdout, /^db\s+already running \(pid \d+\)$/m);
  assert.match(second.stdout, new RegExp(`already running in the background \\(engine pid ${before.engine.pid}\\)`));
  const after = await d.status();
  assert.equal(after.engine.pid, before.engine.pid, 'the same engine');
  assert.deepEqual(
    after.units.map((u) => u.phase),
    ['running', 'running'],
  );
});

test('the runtime dir is 0700 and the socket 0600', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}` });
  await up(d);
  const runtime = d.env.TEND_RUNTIME_DIR ?? '';
  const [project] = fs.readdirSync(runtime);
  assert.equal(fs.statSync(runtime).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(runtime, project ?? '')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(path.join(runtime, project ?? '', 'engine.sock')).mode & 0o777, 0o600);
});

function get(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v1/status', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

test('the TCP listener binds 127.0.0.1 and refuses requests without the token or with a foreign Host', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, { 'tend.yaml': `api: { listen: "${port}" }\nservices:\n${service('web', argv('forever.mjs'))}` });
  const result = await d.tend(['up', '-d'], { env: { TEND_API_TOKEN: 'sekrit-token' } });
  assert.equal(result.code, 0, result.stderr);
  const host = `127.0.0.1:${port}`;
  assert.equal(await get(port, { host }), 401);
  assert.equal(await get(port, { host, authorization: 'Bearer wrong' }), 401);
  assert.equal(await get(port, { host: `evil.example:${port}`, authorization: 'Bearer sekrit-token' }), 403);
  assert.equal(await get(port, { host, origin: 'http://evil.example', authorization: 'Bearer sekrit-token' }), 403);
  assert.equal(await get(port, { host, authorization: 'Bearer sekrit-token' }), 200);
});

test('logs: last lines merged across services, --json records, and -f follows live', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('a', argv('exit-with.mjs', '0'), '    restart: never\n')}${service('b', argv('forever.mjs'))}`,
  });
  await up(d);
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'a')?.phase === 'exited', { what: 'a to finish' });
  const text = await d.tend(['logs', '-n', '10']);
  assert.match(text.stdout, /^a +\| exiting with 0$/m);
  assert.match(text.stdout, /^b +\| \d+$/m);
  const json = await d.tend(['logs', 'a', '--json']);
  const record = JSON.parse(json.stdout.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(record).sort(), ['instance', 'label', 'line', 'service', 'stream', 'time', 'unit']);
  assert.equal(record.stream, 'err');

  const oldPid = (await d.pids()).b;
  const follower = spawn(process.execPath, [tendBin(), 'logs', '-f', '-n', '1', 'b'], {
    cwd: d.dir,
    env: { ...process.env, ...d.env, NO_COLOR: '1' },
  });
  t.after(() => {
    if (follower.exitCode === null) follower.kill('SIGKILL');
  });
  let seen = '';
  follower.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  // The snapshot line arrives once the follower is subscribed (the engine follows right after it).
  await waitFor(() => new RegExp(`^b +\\| ${oldPid}$`, 'm').test(seen), { what: 'the snapshot line of b', seen: () => seen });
  await d.tend(['restart', 'b']);
  const pid = (await d.pids()).b;
  await waitFor(() => new RegExp(`^b +\\| ${pid}$`, 'm').test(seen), { what: 'the restarted b to appear in logs -f', seen: () => seen });
  follower.kill('SIGINT');
  const code = await new Promise((resolve) => follower.on('exit', resolve));
  assert.equal(code, 0);
});

test('rotation under a writer at full speed loses and duplicates no line', async (t) => {
  const count = 200_000;
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('flood', argv('flood.mjs', String(count)), '    restart: never\n    logs: { max_size: 1M, keep: 50 }\n')}`,
  });
  await up(d);
  await waitFor(async () => (await d.status()).units[0]?.phase === 'exited', { what: 'flood to finish', timeoutMs: 30_000 });
  const dir = path.join(d.dir, '.tend', 'logs');
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('flood.log'))
    .sort((x, y) => rank(y) - rank(x));
  assert.ok(files.length > 10, `rotated into ${files.length} files`);
  let next = 1;
  for (const file of files) {
    for (const match of fs.readFileSync(path.join(dir, file), 'latin1').matchAll(/^\S+ 0 out line (\d{9}) /gm)) {
      assert.equal(Number(match[1]), next, `${file}: line ${next}`);
      next += 1;
    }
  }
  assert.equal(next - 1, count);
});

const rank = (file: string) => (file.endsWith('.log') ? 0 : Number(file.split('.').pop()));

test('max_memory: a group over its limit is restarted with a memory event', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('hog', argv('hog.mjs', '120'), '    restart: always\n    max_memory: 60M\n    backoff: { initial: 0ms }\n    min_uptime: 0\n')}`,
  });
  const result = await d.tend(['up', '-d'], { env: { TEND_MEMORY_CHECK_MS: '100' } });
  assert.equal(result.code, 0, result.stderr);
  const first = (await d.pids()).hog ?? 0;
  if (first) trackGroup(first);
  await waitFor(
    async () => {
      const events = await d.tend(['events', '--json', '-n', '100']);
      return events.stdout.includes('"kind":"memory-exceeded"');
    },
    { what: 'a memory-exceeded event', timeoutMs: 20_000 },
  );
  await waitFor(
    async () => {
      const unit = (await d.status()).units[0];
      return unit?.restarts !== undefined && unit.restarts >= 1 && unit.lastResult === 'memory';
    },
    { what: 'hog restarted with result memory', timeoutMs: 30_000 },
  );
});
