// Self-supervision, one test per promise: the engine can die (kill -9, a hang) or be upgraded
// and the services neither notice nor lose a line; the keeper's own death leaves no orphan.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isAlive, readStat } from '../../src/host/proc.js';
import { daemonProject, type Daemon } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup, trackPid } from '../helpers/leak-guard.js';
import { tendBin } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const service = (name: string, command: string, extra = '') => `  ${name}:\n    command: ${command}\n${extra}`;
const gone = (pid: number, timeoutMs = 10_000) => waitFor(() => !isAlive(pid), { what: `pid ${pid} to be gone`, timeoutMs });

async function up(d: Daemon, env: Record<string, string> = {}): Promise<void> {
  const result = await d.tend(['up', '-d'], { env });
  assert.equal(result.code, 0, `up -d: ${result.stdout}${result.stderr}`);
}

/** Kill the engine and wait until a different one answers. Returns the new engine's pid. */
async function killEngine(d: Daemon, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<number> {
  const before = (await d.status()).engine.pid;
  process.kill(before, signal);
  return waitFor(
    async () => {
      try {
        const pid = (await d.status()).engine.pid;
        return pid !== before ? pid : null;
      } catch {
        return null; // between two engines: no answer yet
      }
    },
    { what: 'a new engine to answer', timeoutMs },
  );
}

test('kill -9 of the engine: a new one answers by itself, with the same PIDs, restart counts and start times', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('web', argv('forever.mjs'), '    instances: 2\n')}${service('worker', argv('forever.mjs'))}`,
  });
  await up(d);
  await d.tend(['restart', 'worker']);
  const before = await d.status();
  const exits = async () => (await d.tend(['events', '--json', '-n', '1000'])).stdout.split('"kind":"exited"').length;
  const exitsBefore = await exits();
  const keeper = readStat(before.engine.pid)?.ppid ?? 0;
  trackPid(keeper);
  await killEngine(d);
  const after = await d.status();
  const shape = (s: typeof before) => s.units.map((u) => [u.unit, u.pid, u.phase, u.restarts, u.startedAt]);
  assert.deepEqual(shape(after), shape(before));
  assert.equal(readStat(after.engine.pid)?.ppid, keeper, 'the keeper started the new engine');
  assert.equal(await exits(), exitsBefore, 'no service exited');
});

test('a service that exits while the engine is down is seen by the new engine and handled by its policy', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('web', argv('forever.mjs'), '    restart: always\n    backoff: { initial: 0ms }\n')}`,
  });
  await up(d);
  const before = await d.status();
  const victim = before.units[0]?.pid ?? 0;
  // Freeze the engine so the exit surely happens while it cannot hear it, then kill it.
  process.kill(before.engine.pid, 'SIGSTOP');
  process.kill(victim, 'SIGKILL');
  await gone(victim);
  process.kill(before.engine.pid, 'SIGKILL');
  await waitFor(
    async () => {
      try {
        const unit = (await d.status()).units[0];
        return unit && unit.pid !== null && unit.pid !== victim && unit.phase === 'running' && unit.restarts === 1 ? unit : null;
      } catch {
        return null;
      }
    },
    { what: 'web restarted by the new engine' },
  );
  const events = await d.tend(['events', '--json', '-n', '100']);
  assert.match(events.stdout, /"kind":"exited".*"signal":"SIGKILL"/);
});

test('200,000 lines while the engine is killed 10 times: every line in the log exactly once, in order', async (t) => {
  const count = 200_000;
  const d = daemonProject(t, {
    'tend.yaml': `services:\n${service('writer', argv('paced-flood.mjs', String(count), '400'), '    logs: { max_size: 1G }\n')}`,
  });
  await up(d);
  for (let kill = 0; kill < 10; kill++) await killEngine(d);
  const log = path.join(d.dir, '.tend', 'logs', 'writer.log');
  await waitFor(() => fs.readFileSync(log, 'latin1').includes(' err done'), { what: 'the writer to finish', timeoutMs: 30_000 });
  let next = 1;
  for (const match of fs.readFileSync(log, 'latin1').matchAll(/^\S+ 0 out line (\d{9}) \.+$/gm)) {
    assert.equal(Number(match[1]), next, `expected line ${next}`);
    next += 1;
  }
  assert.equal(next - 1, count);
  assert.equal((await d.status()).units[0]?.restarts, 0, 'the writer never restarted');
});

test('an engine that hangs is found by the heartbeat and replaced; services keep running', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}` });
  await up(d, { TEND_TEST_FAULT: 'hang-on-usr2' });
  const before = await d.status();
  const engine = await killEngine(d, 'SIGUSR2', 20_000);
  assert.notEqual(engine, before.engine.pid);
  await gone(before.engine.pid);
  assert.equal((await d.status()).units[0]?.pid, before.units[0]?.pid);
});

test('upgrade replaces the engine with the code on disk and restarts no service', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'), '    instances: 2\n')}` });
  await up(d);
  const before = await d.status();
  const result = await d.tend(['upgrade']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /engine replaced: tend \S+ \(pid \d+\) → tend \S+ \(pid \d+\); 2 services untouched/);
  const after = await d.status();
  assert.notEqual(after.engine.pid, before.engine.pid);
  assert.deepEqual(
    after.units.map((u) => u.pid),
    before.units.map((u) => u.pid),
  );
});

test('an upgrade to an engine that cannot speak the keeper protocol is refused and explains the restart it needs', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}` });
  await up(d, { TEND_TEST_ADVERTISE_PROTOCOLS: '99' });
  const before = await d.status();
  const result = await d.tend(['upgrade']);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /upgrade refused, the running engine stays: .*speaks keeper protocol 99, this keeper speaks 2: run `tend down && tend up -d`/,
  );
  assert.equal((await d.status()).engine.pid, before.engine.pid);
});

test('if the keeper dies, the engine takes every service group down and exits; the next up starts clean', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('spawn-grandchild.mjs'), '    instances: 2\n')}` });
  await up(d);
  const before = await d.status();
  const keeper = readStat(before.engine.pid)?.ppid ?? 0;
  const services = before.units.map((u) => u.pid ?? 0);
  process.kill(keeper, 'SIGKILL');
  await gone(before.engine.pid, 20_000);
  for (const pid of services) await gone(pid, 20_000);
  assert.equal((await d.tend(['ps'])).code, 3);
  await up(d);
  assert.equal((await d.status()).units.filter((u) => u.phase === 'running').length, 2);
});

test('tend startup prints a systemd unit with Restart=always and KillMode=mixed, and an init script', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs'))}` });
  const unit = await d.tend(['startup']);
  assert.equal(unit.code, 0, unit.stderr);
  assert.match(unit.stdout, /^ExecStart=\S+node\S* \S+keeper\/main\.js --file \S+tend\.yaml --engine \S+main\.js$/m);
  assert.match(unit.stdout, /^Restart=always$/m);
  assert.match(unit.stdout, /^KillMode=mixed$/m);
  const script = await d.tend(['startup', '--init']);
  assert.match(script.stdout, /^#!\/bin\/sh/);
  assert.match(script.stdout, /start\) +exec .* up -d --file/);
  const staged = path.join(d.dir, 'units');
  const installed = await d.tend(['startup', '--install'], { env: { TEND_SYSTEMD_DIR: staged } });
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(fs.readFileSync(path.join(staged, fs.readdirSync(staged)[0] ?? ''), 'utf8'), unit.stdout);
  assert.match(unit.stdout, /^Delegate=yes$/m);
});

test('tend startup --user runs tend unprivileged and hardened; the variables the config refers to are captured (0600) and named', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:
  web:
    command: ["sleep", "\${SLEEP_FOR}"]
    env: { TOKEN: "\${API_KEY}", MODE: "\${MODE:-prod}" }
`,
  });
  const unit = await d.tend(['startup', '--user', 'nobody'], { env: { SLEEP_FOR: '100', API_KEY: 's3cr"et' } });
  assert.equal(unit.code, 0, unit.stderr);
  for (const line of ['User=nobody', 'NoNewPrivileges=yes', 'ProtectSystem=full', 'Delegate=yes', 'RuntimeDirectoryPreserve=restart'])
    assert.match(unit.stdout, new RegExp(`^${line}$`, 'm'));
  assert.match(unit.stdout, /^RuntimeDirectory=tend-\d+$/m);
  assert.match(unit.stderr, /the config refers to SLEEP_FOR, API_KEY: with --install, their values now are written to \S+\.env \(0600\)/);
  assert.match(unit.stderr, /MODE is not set here: the unit will use its default/);
  assert.doesNotMatch(unit.stdout, /s3cr/, 'no value in the unit file, which is world-readable');
  const staged = path.join(d.dir, 'units');
  const installed = await d.tend(['startup', '--user', 'nobody', '--install'], {
    env: { TEND_SYSTEMD_DIR: staged, SLEEP_FOR: '100', API_KEY: 's3cr"et' },
  });
  assert.equal(installed.code, 0, installed.stderr);
  const envFile = fs.readdirSync(staged).find((name) => name.endsWith('.env')) ?? '';
  assert.equal(fs.readFileSync(path.join(staged, envFile), 'utf8'), 'SLEEP_FOR="100"\nAPI_KEY="s3cr\\"et"\n');
  assert.equal((fs.statSync(path.join(staged, envFile)).mode & 0o777).toString(8), '600');
  assert.match(
    fs.readFileSync(path.join(staged, fs.readdirSync(staged).find((name) => name.endsWith('.service')) ?? ''), 'utf8'),
    new RegExp(`^EnvironmentFile=${path.join(staged, envFile).replace(/[.]/g, '\\.')}$`, 'm'),
  );
  const unknown = await d.tend(['startup', '--user', 'no-such-user-here']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /there is no user named "no-such-user-here"/);
});

/** PID namespaces need root (or user namespaces); where they cannot be made, say so and skip. */
const pidNamespaces = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

test('as PID 1 (in a PID namespace) tend says to use an init, forwards SIGTERM and stops cleanly', {
  skip: pidNamespaces ? false : 'unshare --pid is not permitted here',
}, async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n${service('web', argv('forever.mjs', 'graceful'))}` });
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', process.execPath, tendBin(), 'up'], {
    cwd: d.dir,
    env: { ...process.env, ...d.env, NO_COLOR: '1' },
  });
  if (child.pid) trackGroup(child.pid);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await closed;
  });
  await waitFor(() => /web +\| \d+/.test(output), { what: 'web to start under tend as PID 1', seen: () => output });
  assert.match(output, /tend runs as PID 1/);
  // tend is unshare's child: find it from outside the namespace and send it SIGTERM.
  const inner = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
  trackPid(inner);
  process.kill(inner, 'SIGTERM');
  assert.equal(await closed, 0, output);
  assert.match(output, /web +\| stopping/);
  assert.match(output, /all services stopped/);
  await endGroup(child.pid ?? 0);
});
