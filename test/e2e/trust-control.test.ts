// No way to wedge or fool the control plane: the project lock is private and never stale, the
// CLI talks only to sockets in directories of its own user, service output cannot drive the
// terminal, and tend's own restarts are bounded and explained — with `ps` and `down` still
// working through the keeper when no engine can start.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive, readStat } from '../../src/host/proc.js';
import { projectPaths } from '../../src/runtime/runtime-dir.js';
import { daemonProject, type Daemon } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { trackGroup, trackPid } from '../helpers/leak-guard.js';
import { tendBin } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';

const OTHER = 12345;
const asRoot = process.geteuid?.() === 0 ? false : 'needs root, to make files of another uid';
const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const forever = `services:\n  web:\n    command: ${argv('forever.mjs')}\n`;
const configOf = (d: Daemon) => path.join(fs.realpathSync(d.dir), 'tend.yaml');

/** A server at `file` that would answer anything with invented units — what a planted socket might do. */
function fakeEngine(t: TestContext, file: string): { hits: () => number } {
  let hits = 0;
  const server = net.createServer((socket) => {
    hits += 1;
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"engine":{"pid":1},"units":[{"unit":"invented"}]}');
  });
  server.listen(file);
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { hits: () => hits };
}

test('the old lock (an abstract socket with a predictable name) held by someone else blocks nothing; six racing `up -d` start one keeper', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': forever });
  const paths = projectPaths(configOf(d), d.env);
  const squatter = net.createServer().listen({ path: `\0tend-${process.getuid?.() ?? 0}-${paths.id}` });
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const results = await Promise.all(Array.from({ length: 6 }, () => d.tend(['up', '-d'])));
  // One wins; the others find its engine and start in it what is not running (exit 0), or — while
  // it still boots — say it is there.
  assert.ok(
    results.some((r) => r.code === 0 && !r.stdout.includes('already running in the background')),
    results.map((r) => r.stderr).join('\n'),
  );
  for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /an engine is already running for/);
  assert.equal((await d.status()).units.length, 1);
  assert.equal((fs.lstatSync(paths.lock).mode & 0o777).toString(8), '600');
  assert.equal((fs.statSync(paths.dir).mode & 0o777).toString(8), '700');
});

test('a lock left by a SIGKILLed keeper and engine never blocks the next start', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': forever });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const { engine } = await d.status();
  const keeper = engine.keeperPid ?? 0;
  trackPid(keeper);
  process.kill(keeper, 'SIGKILL');
  process.kill(engine.pid, 'SIGKILL');
  await waitFor(() => !isAlive(keeper) && !isAlive(engine.pid), { what: 'keeper and engine gone' });
  assert.ok(fs.existsSync(projectPaths(configOf(d), d.env).lock), 'the stale lock socket is still there');
  const again = await d.tend(['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
});

test('the CLI refuses a runtime directory planted by another user, and a socket open to others — it never talks to them', {
  skip: asRoot,
}, async (t) => {
  const d = daemonProject(t, { 'tend.yaml': forever });
  const paths = projectPaths(configOf(d), d.env);
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(paths.dir), 0o700);
  const fake = fakeEngine(t, paths.socket);
  await waitFor(() => fs.existsSync(paths.socket), { what: 'the fake socket' });
  fs.chownSync(path.dirname(paths.dir), OTHER, OTHER); // planted before the victim's first run
  for (const verb of [['ps'], ['down'], ['logs', '-n', '1']]) {
    const result = await d.tend(verb);
    assert.equal(result.code, 1, `${verb.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /unsafe or unusable runtime directory: .* belongs to uid 12345, not to uid 0/);
    assert.doesNotMatch(result.stdout, /invented/);
  }
  fs.chownSync(path.dirname(paths.dir), 0, 0);
  fs.chmodSync(paths.socket, 0o666);
  const open = await d.tend(['ps']);
  assert.equal(open.code, 1);
  assert.match(open.stderr, /engine\.sock has mode 666; it must be 600/);
  assert.equal(fake.hits(), 0, 'nothing was ever sent to the planted socket');
});

test('service output cannot drive the terminal: escape sequences are shown as text by logs', async (t) => {
  const print = JSON.stringify([
    process.execPath,
    '-e',
    'process.stdout.write("title \\x1b]0;pwned\\x07 clear \\x1b[2J bell \\x07 done\\n"); setInterval(() => {}, 1e9)',
  ]);
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${print}\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const shown = await waitFor(
    async () => {
      const out = (await d.tend(['logs', 'web', '-n', '10'])).stdout;
      return out.includes('done') && out;
    },
    { what: 'the line in tend logs' },
  );
  assert.match(shown, /title \^\[\]0;pwned\^G clear \^\[\[2J bell \^G done/);
  assert.doesNotMatch(shown, /\x1b|\x07/);
});

test('an engine that cannot start again: the keeper backs off and says why in ps; down still stops everything through it', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n    instances: 2\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const before = await d.status();
  const keeper = before.engine.keeperPid ?? 0;
  trackPid(keeper);
  // The log directory becomes writable by everyone: every new engine refuses to start.
  fs.chmodSync(path.join(d.dir, '.tend', 'logs'), 0o777);
  process.kill(before.engine.pid, 'SIGKILL');
  const engineLog = path.join(projectPaths(configOf(d), d.env).dir, 'engine.log');
  await waitFor(() => /failed to start \(code 1\); starting a new one in 2000 ms/.test(fs.readFileSync(engineLog, 'utf8')), {
    what: 'three failed starts, backing off',
    timeoutMs: 30_000,
    seen: () => fs.readFileSync(engineLog, 'utf8'),
  });
  const delays = [...fs.readFileSync(engineLog, 'utf8').matchAll(/failed to start .*in (\d+) ms/g)].map((m) => Number(m[1]));
  assert.deepEqual(delays.slice(0, 3), [0, 1000, 2000]);
  const ps = await d.tend(['ps']);
  assert.equal(ps.code, 1);
  assert.match(
    ps.stdout,
    new RegExp(
      `The engine is not running; the keeper \\(pid ${keeper}\\) still holds the services\\. Its last failure \\(.*\\): refusing to use a log file or directory another user could tamper with: .*logs can be written by every user \\(mode 777\\)`,
    ),
  );
  for (const unit of before.units) assert.match(ps.stdout, new RegExp(`web\\.${unit.instance} +${unit.pid}`));
  const start = await d.tend(['restart', 'web']);
  assert.equal(start.code, 3);
  assert.match(start.stderr, /but its keeper \(pid \d+\) holds 2 service processes; the engine's last failure: refusing/);
  const down = await d.tend(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /stopped every service through the keeper/);
  assert.equal(isAlive(keeper), false);
  for (const unit of before.units) assert.equal(isAlive(unit.pid ?? 0), false);
});

test('a keeper whose first engine cannot start (a variable missing from its environment) stops and exits 1', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ["sleep", "\${NOT_SET_ANYWHERE}"]\n` });
  const keeperMain = fileURLToPath(new URL('../../src/keeper/main.js', import.meta.url));
  // As a boot unit runs it: no `up -d` in front, so the engine loads the file itself.
  const keeper = spawn(process.execPath, [keeperMain, '--file', configOf(d), '--engine', tendBin()], {
    cwd: d.dir,
    env: { ...process.env, ...d.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackGroup(keeper.pid ?? 0);
  let output = '';
  keeper.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => keeper.once('exit', resolve));
  assert.equal(code, 1, output);
  assert.match(output, /NOT_SET_ANYWHERE/);
  assert.match(output, /the first engine exited before it was ready/);
  assert.equal(readStat(keeper.pid ?? 0) === null || !isAlive(keeper.pid ?? 0), true);
});

test('5,000 idle connections to the TCP listener: the engine holds at most a few, drops the silent ones within seconds, and the unix socket keeps answering', {
  timeout: 120_000,
}, async (t) => {
  const port = await freePort();
  const d = daemonProject(t, { 'tend.yaml': `api: { listen: "127.0.0.1:${port}" }\n${forever}` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const engine = (await d.status()).engine.pid;
  const fds = () => fs.readdirSync(`/proc/${engine}/fd`).length;
  const before = fds();
  const sockets: net.Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  let closedByServer = 0;
  for (let i = 0; i < 5000; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('close', () => (closedByServer += 1));
    sockets.push(socket); // connected, never a byte sent: half-open requests
    if (i % 500 === 499) {
      const ps = await d.tend(['ps', '--json']);
      assert.equal(ps.code, 0, `ps over the unix socket during the flood: ${ps.stderr}`);
      assert.ok(fds() < before + 200, `the engine holds ${fds() - before} more descriptors`);
    }
  }
  // The silent ones the server did take are closed after the header timeout (5 s).
  await waitFor(() => closedByServer === sockets.length, {
    what: 'every idle connection closed by the engine',
    timeoutMs: 60_000,
    seen: () => `${closedByServer} closed`,
  });
  assert.ok(fds() < before + 20);
  assert.equal((await d.tend(['ps'])).code, 0);
});

test('bounds: a billion instances or lines is refused with a sentence; tend works with 96 file descriptors', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': forever });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const scale = await d.tend(['scale', 'web=1000000000']);
  assert.equal(scale.code, 2);
  assert.match(scale.stderr, /^tend: instances must be a whole number from 0 to 1000, got 1000000000$/m);
  const logs = await d.tend(['logs', '-n', '1000000000']);
  assert.equal(logs.code, 2);
  assert.match(logs.stderr, /"lines" must be at most 100000, got 1000000000/);
  assert.equal((await d.status()).units.length, 1, 'the engine still answers, with its one unit');
  assert.equal((await d.tend(['down'])).code, 0);
  // A low descriptor limit: everything tend opens (the schema library included) fits.
  const low = (args: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('sh', ['-c', `ulimit -n 96 && exec "$0" "$@"`, process.execPath, tendBin(), ...args.split(' ')], {
        cwd: d.dir,
        env: { ...process.env, ...d.env, NO_COLOR: '1' },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('close', (code) => resolve({ code, out }));
    });
  const check = await low('check');
  assert.equal(check.code, 0, check.out);
  const up = await low('up -d');
  assert.equal(up.code, 0, up.out);
  assert.equal((await low('ps')).code, 0);
  assert.equal((await low('down')).code, 0);
});

test('nothing of tend reaches a service: no descriptor but 0, 1 and 2, no TEND_API_TOKEN; a pipe handed to `up -d` is let go at once', async (t) => {
  // sleep opens nothing of its own: every descriptor it has, it was given.
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ["sleep", "100000"]\n    env: { MINE: "kept" }\n` });
  fs.writeFileSync(path.join(d.dir, 'secret'), 'TOP SECRET\n', { mode: 0o600 });
  // As a CI step: fds 5, 17 and 100 open on a secret, fd 18 the step's own output pipe.
  const child = spawn('bash', ['-c', `exec 5<secret 17<secret 100<secret 18>&1; exec "$0" "$@"`, process.execPath, tendBin(), 'up', '-d'], {
    cwd: d.dir,
    env: { ...process.env, ...d.env, TEND_API_TOKEN: 'do-not-leak', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  // EOF on the pipe means every process holding it — keeper, engine, services — let it go.
  await new Promise((resolve) => child.stdout.once('close', resolve));
  assert.match(out, /web +started \(pid \d+\)/);
  const { units } = await d.status();
  const pid = units[0]?.pid ?? 0;
  assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2']);
  const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  assert.ok(environ.includes('MINE=kept'));
  assert.ok(environ.includes('TEND_SERVICE=web'));
  assert.equal(
    environ.filter((entry) => /^TEND_(API_TOKEN|RUNTIME_DIR|FILE)=/.test(entry)).length,
    0,
    environ.filter((e) => e.startsWith('TEND_')).join(' '),
  );
  const engine = (await d.status()).engine;
  for (const tendPid of [engine.pid, engine.keeperPid ?? 0]) {
    for (const fd of fs.readdirSync(`/proc/${tendPid}/fd`)) {
      let target = '';
      try {
        target = fs.readlinkSync(`/proc/${tendPid}/fd/${fd}`);
      } catch {
        continue;
      }
      assert.ok(!target.endsWith('/secret'), `tend (pid ${tendPid}) holds the secret at fd ${fd}`);
    }
  }
});

test("a variable's value is never run as shell code: string commands and `sh -c` scripts get it from their environment", async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': [
      'services:',
      '  str:',
      '    command: "echo ${EVIL} > str.txt; exec sleep 100000"',
      '  argv:',
      '    command: ["sh", "-c", "echo \\"${EVIL}\\" > argv.txt; exec sleep 100000"]',
      '  data:',
      '    command: ["sh", "-c", "printf %s \\"$1\\" > data.txt; exec sleep 100000", "data", "${EVIL}"]',
      '',
    ].join('\n'),
  });
  const evil = '$(touch pwned1); touch pwned2 `touch pwned3`';
  assert.equal((await d.tend(['up', '-d'], { env: { EVIL: evil } })).code, 0);
  await waitFor(() => ['str', 'argv', 'data'].every((name) => fs.existsSync(path.join(d.dir, `${name}.txt`))), {
    what: 'the three services to write',
  });
  for (const file of ['pwned1', 'pwned2', 'pwned3']) assert.equal(fs.existsSync(path.join(d.dir, file)), false, `${file} was created`);
  assert.equal(fs.readFileSync(path.join(d.dir, 'str.txt'), 'utf8'), `${evil}\n`);
  assert.equal(fs.readFileSync(path.join(d.dir, 'argv.txt'), 'utf8'), `${evil}\n`);
  assert.equal(fs.readFileSync(path.join(d.dir, 'data.txt'), 'utf8'), evil);
  const unset = daemonProject(t, { 'tend.yaml': 'services:\n  str:\n    command: "echo ${NOPE_NOT_SET}"\n' });
  const check = await unset.tend(['check']);
  assert.equal(check.code, 2);
  assert.match(check.stderr, /services\.str\.command: \$\{NOPE_NOT_SET\} is not set/);
});

/** A throwaway account with a supplementary group, removed after the test. */
function testAccount(t: TestContext): { user: string; group: string; uid: number; gid: number; extraGid: number } {
  const tag = Math.random().toString(36).slice(2, 8);
  const [user, group] = [`tendu${tag}`, `tendg${tag}`];
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  };
  run('groupadd', [group]);
  t.after(() => void spawnSync('groupdel', [group]));
  run('useradd', [
    '--no-create-home',
    '--home-dir',
    `/home/${user}`,
    '--shell',
    '/usr/sbin/nologin',
    '--user-group',
    '--groups',
    group,
    user,
  ]);
  t.after(() => void spawnSync('userdel', [user]));
  const id = (flag: string, name = user) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const extraGid = Number(spawnSync('getent', ['group', group], { encoding: 'utf8' }).stdout.split(':')[2]);
  return { user, group, uid: id('-u'), gid: id('-g'), extraGid };
}

test("a service runs as the user the config names: its uid, gid and supplementary groups, HOME, USER and LOGNAME; its logs stay tend's", {
  skip: asRoot,
}, async (t) => {
  const account = testAccount(t);
  const report = JSON.stringify(['sh', '-c', 'echo "ids $(id -u) $(id -g) [$(id -G)] $HOME $USER $LOGNAME"; exec sleep 100000']);
  const d = daemonProject(t, { 'tend.yaml': `services:\n  app:\n    command: ${report}\n    user: ${account.user}\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const log = path.join(d.dir, '.tend', 'logs', 'app.log');
  const line = await waitFor(() => fs.existsSync(log) && /ids .*/.exec(fs.readFileSync(log, 'utf8'))?.[0], {
    what: 'the service to report its ids',
  });
  assert.equal(
    line,
    `ids ${account.uid} ${account.gid} [${[account.gid, account.extraGid].join(' ')}] /home/${account.user} ${account.user} ${account.user}`,
  );
  const pid = (await d.status()).units[0]?.pid ?? 0;
  assert.equal(fs.statSync(`/proc/${pid}`).uid, account.uid, "the service process itself (same PID, no wrapper left) is the user's");
  assert.equal(fs.statSync(log).uid, 0, "the log file is tend's");
  assert.equal((fs.statSync(log).mode & 0o777).toString(8), '600');
});

test('a tend that is not root refuses, at check, to run a service as another user', { skip: asRoot }, async (t) => {
  const account = testAccount(t);
  const dir = fs.mkdtempSync(path.join('/tmp', 'tend-notroot-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'tend.yaml'), 'services:\n  app:\n    command: ["sleep", "1"]\n    user: root\n', { mode: 0o644 });
  const check = spawnSync(process.execPath, [tendBin(), 'check'], {
    cwd: dir,
    uid: account.uid,
    gid: account.gid,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
  assert.equal(check.status, 2, check.stderr);
  assert.match(
    check.stderr,
    new RegExp(`tend\\.yaml:4:11: services\\.app\\.user: tend runs as uid ${account.uid}: only root can run a service as another user`),
  );
});

test('a service that escapes its process group (setsid) is still stopped, also after tend was SIGKILLed — where cgroups can be made', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  daemon:\n    command: ${argv('escape.mjs')}\n    stop: { timeout: 1s }\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const { engine } = await d.status();
  if (engine.containment !== 'cgroup')
    return t.skip('no writable cgroup v2 hierarchy here: process groups only, and a setsid() escape is out of reach');
  const log = path.join(d.dir, '.tend', 'logs', 'daemon.log');
  /** The newest escapee the log names, once there is one other than `after`. */
  const escapee = (after = 0) =>
    waitFor(
      () => {
        const pids = fs.existsSync(log) ? [...fs.readFileSync(log, 'utf8').matchAll(/escaped (\d+)/g)].map((m) => Number(m[1])) : [];
        const last = pids.at(-1);
        return last !== undefined && last !== after ? last : null;
      },
      { what: 'the escapee' },
    );
  const first = await escapee();
  trackPid(first);
  assert.match((await d.tend(['ps'])).stdout, /containment: a cgroup per service/);
  const stop = await d.tend(['stop', 'daemon']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(first), false, 'stop reached the process that left the group');
  // Once more, and this time tend itself dies: the next start ends the escapee through the cgroup.
  assert.equal((await d.tend(['start', 'daemon'])).code, 0);
  const second = await escapee(first);
  trackPid(second);
  const keeper = engine.keeperPid ?? 0;
  trackPid(keeper);
  process.kill(keeper, 'SIGKILL');
  process.kill(engine.pid, 'SIGKILL');
  await waitFor(() => !isAlive(keeper) && !isAlive(engine.pid), { what: 'keeper and engine gone' });
  assert.ok(isAlive(second), 'the escapee outlived tend');
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  assert.equal(isAlive(second), false, 'the next up ended it');
});
