// The everyday CLI (issue 11) against the real bin: `-f FILE` before any verb, help and
// did-you-mean for verbs, services and signals.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { spawnTend } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

test('-f FILE before the verb works for every verb; -f after logs is follow', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  worker:\n    command: ${argv('tick.mjs', '50')}\n`,
  });
  const file = path.join(d.dir, 'tend.yaml');
  assert.equal((await d.tend(['-f', file, 'up', '-d'])).code, 0);
  const logs = await d.tend(['-f', file, 'logs', '-n', '1']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^worker \| /m);
  const events = await d.tend(['--file', file, 'events', '-n', '1']);
  assert.equal(events.code, 0, events.stderr);
  const ps = await d.tend(['-f', file, 'ps']);
  assert.match(ps.stdout, /^worker\s+running/m);
  // Follow: -f after the verb, the file given before it.
  const follow = spawnTend(t, ['-f', file, 'logs', '-f', '-n', '0'], { cwd: d.dir, env: d.env });
  await follow.waitForOutput(/worker \| tick \d+/);
  follow.child.kill('SIGINT');
  await follow.exited;
});

test('help, and did-you-mean for verbs, services and signals', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  worker:\n    command: ${argv('forever.mjs')}\n  web:\n    command: ${argv('forever.mjs')}\n`,
  });
  const help = await d.tend(['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: tend \[-f FILE\] COMMAND/m);
  const helpLogs = await d.tend(['help', 'logs']);
  assert.equal(helpLogs.code, 0);
  assert.match(helpLogs.stdout, /^Usage: tend logs/);
  const typo = await d.tend(['stpo', 'web']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, 'tend: unknown command "stpo"\n  hint: did you mean `tend stop`?\n');
  const nothing = await d.tend(['frobnicate']);
  assert.match(nothing.stderr, /hint: run `tend help` for the list of commands/);
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const service = await d.tend(['restart', 'wrker']);
  assert.equal(service.code, 1);
  assert.equal(service.stderr, 'tend: there is no service named "wrker" in the config\n  hint: did you mean "worker"?\n');
  const unknown = await d.tend(['stop', 'database']);
  assert.match(unknown.stderr, /hint: its services: worker, web\n$/);
  const signal = await d.tend(['signal', 'web', 'SIGHPU']);
  assert.equal(signal.code, 2);
  assert.match(signal.stderr, /^tend: unknown signal "SIGHPU"\n {2}hint: did you mean HUP\? signals: .*\bTERM\b/);
});

test('up NAME starts only that service and what it needs; up -d again starts the rest in the same engine', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  db:\n    command: ${argv('forever.mjs')}\n  web:\n    command: ${argv('forever.mjs')}\n    depends_on: [db]\n  other:\n    command: ${argv('forever.mjs')}\n`,
  });
  const typo = await d.tend(['up', '-d', 'wbe']);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /^tend: there is no service named "wbe" in the config\n {2}hint: did you mean "web"\?\n$/);
  const up = await d.tend(['up', '-d', 'web']);
  assert.equal(up.code, 0, up.stderr);
  const phases = async () => Object.fromEntries((await d.status()).units.map((u) => [u.label, u.phase]));
  assert.deepEqual(await phases(), { db: 'running', web: 'running', other: 'stopped' });
  const again = await d.tend(['up', '-d']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^other\s+started \(pid \d+\)$/m);
  assert.deepEqual(await phases(), { db: 'running', web: 'running', other: 'running' });
});

/** Two ports in a row that are free now (the base, and the base + 1). */
async function freePorts(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const free = async (port: number) =>
      new Promise<boolean>((resolve) => {
        const server = net.createServer().once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      });
    if ((await free(base)) && (await free(base + 1))) return base;
  }
}

test('increment_env: each instance of an HTTP server gets its own port; scale adds the next one', async (t) => {
  const base = await freePorts();
  const server = nodeFixture('late-http.mjs').join(' ');
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  api:\n    command: "exec ${server} $PORT 0"\n    env: { PORT: "${base}" }\n    increment_env: PORT\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  assert.equal((await d.tend(['scale', 'api=2'])).code, 0);
  for (const port of [base, base + 1]) {
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(answer.status, 200, `instance on ${port}`);
  }
  const pids = await d.pids();
  assert.ok(pids['api.0'] && pids['api.1'] && pids['api.0'] !== pids['api.1']);
});

test('logs and events read the files after down; logs -f goes on through an engine kill -9 and an upgrade, missing and repeating no line', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  worker:\n    command: ${argv('tick.mjs', '10')}\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const follow = spawnTend(t, ['logs', '-f', '-n', '0'], { cwd: d.dir, env: d.env });
  const ticks = () => [...follow.output().matchAll(/^worker \| tick (\d+)$/gm)].map((m) => Number(m[1]));
  await follow.waitForOutput(/tick \d+\n/);
  const { engine } = await d.status();
  process.kill(engine.pid, 'SIGKILL');
  const atKill = ticks().at(-1) ?? 0;
  await follow.waitForOutput(new RegExp(`tick ${atKill + 100}\\n`), { timeoutMs: 30_000 });
  await waitFor(async () => (await d.tend(['ps'])).code === 0, { what: 'a new engine', timeoutMs: 30_000 });
  const upgrade = await d.tend(['upgrade']);
  assert.equal(upgrade.code, 0, upgrade.stderr);
  const atUpgrade = ticks().at(-1) ?? 0;
  await follow.waitForOutput(new RegExp(`tick ${atUpgrade + 100}\\n`), { timeoutMs: 30_000 });
  follow.child.kill('SIGINT');
  assert.equal((await follow.exited).code, 0);
  assert.match(follow.output(), /^tend: the engine went away; following the log files$/m);
  const seen = ticks();
  const first = seen[0] ?? 0;
  assert.deepEqual(
    seen,
    Array.from({ length: seen.length }, (_, i) => first + i),
    'every tick once, in order',
  );
  assert.equal((await d.tend(['down'])).code, 0);
  const logs = await d.tend(['logs', '-n', '2']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^worker \| tick \d+\nworker \| tick \d+\n$/);
  const events = await d.tend(['events', '-n', '3']);
  assert.equal(events.code, 0, events.stderr);
  assert.match(events.stdout, /worker stopped/);
});

test('ps NAME filters; status NAME shows state, process tree, the last exits and the last log lines', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  web:\n    command: ${argv('spawn-grandchild.mjs')}\n  flaky:\n    command: ${argv('exit-with.mjs', '3')}\n    restart: never\n`,
  });
  await d.tend(['up', '-d']); // exits 1: flaky failed, as it should
  const ps = await d.tend(['ps', 'web']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.deepEqual(
    ps.stdout.split('\n').filter((line) => /^\S/.test(line) && !line.startsWith('containment')),
    [ps.stdout.split('\n')[0], ps.stdout.split('\n').find((line) => line.startsWith('web '))],
  );
  assert.match((await d.tend(['ps', 'wbe'])).stderr, /hint: did you mean "web"\?/);
  let status = '';
  await waitFor(
    async () => {
      status = (await d.tend(['status', 'web'])).stdout;
      return /grandchild \d+/.test(status) && /└─ \d+ /.test(status);
    },
    { what: 'the tree and the log of web in status', seen: () => status },
  );
  const pid = (await d.pids()).web;
  assert.match(status, /^● web — 1 of 1 instance running\n {2}web: running since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(/);
  assert.match(status, new RegExp(`^ {6}${pid} \\S*node\\S* \\S*spawn-grandchild\\.mjs\\n {6}└─ \\d+ \\S*node`, 'm'));
  assert.match(status, new RegExp(`Recent:\\n.*web started \\(pid ${pid}\\)`));
  assert.match(status, /Log:\n.* web \| parent \d+/);
  const flaky = (await d.tend(['status', 'flaky'])).stdout;
  assert.match(flaky, /^ {2}flaky: failed, last exit code 3 \(exit-code\), 0 restarts/m);
  assert.match(flaky, /flaky exited with code 3/);
  assert.match(flaky, /flaky \(stderr\) \| exiting with 3/);
  const json = JSON.parse((await d.tend(['status', 'web', '--json'])).stdout);
  assert.equal(json.services[0].service, 'web');
});

test('up -d names each failure and its reason: a missing program, a missing cwd, an exit with its stderr', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:
  nope:
    command: ["tend-no-such-program"]
    restart: never
  nowhere:
    command: ${argv('forever.mjs')}
    cwd: missing-dir
    restart: never
  crash:
    command: ${argv('exit-with.mjs', '2')}
    restart: never
  fine:
    command: ${argv('forever.mjs')}
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 1, up.stdout);
  assert.match(up.stdout, /^nope\s+failed: cannot start "tend-no-such-program": program not found$/m);
  assert.match(
    up.stdout,
    /^nowhere\s+failed: cannot start "\S+": working directory "\S+missing-dir" does not exist or is not a directory$/m,
  );
  assert.match(up.stdout, /^crash\s+failed: exited with code 2; its stderr: exiting with 2$/m);
  assert.match(up.stdout, /^fine\s+started \(pid \d+\)$/m);
});

test('reload says by service what it scaled, updated in place and left alone; --json gives the same plan', async (t) => {
  const yaml = (instances: number, timeout: string) =>
    `services:\n  worker:\n    command: ${argv('forever.mjs')}\n    instances: ${instances}\n  db:\n    command: ${argv('forever.mjs')}\n    stop: { timeout: ${timeout} }\n`;
  const d = daemonProject(t, { 'tend.yaml': yaml(1, '10s') });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const before = await d.pids();
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), yaml(2, '30s'));
  const json = JSON.parse((await d.tend(['reload', '--dry-run', '--json'])).stdout);
  assert.deepEqual(json.services, [
    { service: 'worker', action: 'update', keys: [], scale: { from: 1, to: 2 } },
    { service: 'db', action: 'update', keys: ['stop.timeout'] },
  ]);
  assert.equal(json.dryRun, true);
  const reload = await d.tend(['reload']);
  assert.equal(reload.stdout, 'SERVICE  CHANGE\nworker   scaled 1→2\ndb       updated in place (stop.timeout)\n');
  const after = await d.pids();
  assert.equal(after.db, before.db, 'updated in place: same pid');
  assert.equal(after['worker.0'], before.worker, 'scaled: the running instance is untouched');
  assert.ok(after['worker.1']);
});

test('info says where everything is; events tell of an engine that died and was replaced, and of reloads', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `api: { listen: "127.0.0.1:0" }\nservices:\n  web:\n    command: ${argv('forever.mjs')}\n`,
  });
  const before = await d.tend(['info']);
  assert.equal(before.code, 3);
  assert.match(before.stdout, /^engine\s+not running/m);
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const info = await d.tend(['info']);
  assert.equal(info.code, 0, info.stderr);
  const facts = JSON.parse((await d.tend(['info', '--json'])).stdout);
  assert.equal(facts.configFile, path.join(fs.realpathSync(d.dir), 'tend.yaml'));
  assert.ok(facts.engine.tcp.port > 0, 'the port chosen for :0');
  assert.match(
    info.stdout,
    new RegExp(`^\\s+tcp http://127\\.0\\.0\\.1:${facts.engine.tcp.port}/v1/ \\(bearer token in ${facts.token}\\)$`, 'm'),
  );
  assert.match(info.stdout, new RegExp(`^engine log\\s+${facts.engineLog}$`, 'm'));
  assert.match(info.stdout, /^versions\s+tend \S+ \(this command\), API protocol \d+, keeper protocol \d+, node v\d+/m);
  assert.equal(fs.statSync(facts.token).mode & 0o777, 0o600);
  process.kill(facts.engine.pid, 'SIGKILL');
  await waitFor(async () => JSON.parse((await d.tend(['info', '--json'])).stdout).engine?.pid > 0, {
    what: 'a new engine',
    timeoutMs: 30_000,
  });
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), `services:\n  web:\n    command: ${argv('forever.mjs')}\n    restart: always\n`);
  assert.equal((await d.tend(['reload'])).code, 0);
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), 'services:\n  web:\n    restart: sometimes\n');
  assert.equal((await d.tend(['reload'])).code, 2);
  const events = (await d.tend(['events', '-n', '20'])).stdout;
  assert.match(events, /tend: a new engine took over after the last one it died \(SIGKILL\); services kept running/);
  assert.match(events, /tend: reloaded: web updated in place \(restart\)/);
  assert.match(events, /tend: reload rejected, the running config stays in force: 2 problems in /);
});

test('small answers: stop of a stopped service says so; down with nothing running says so', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  assert.match((await d.tend(['stop', 'web'])).stdout, /^web\s+stopped$/m);
  assert.match((await d.tend(['stop', 'web'])).stdout, /^web\s+already stopped$/m);
  assert.equal((await d.tend(['down'])).stdout, 'no service was running; engine stopped\n');
});

test('a long down says what it waits for: the signal sent, how long ago, and when SIGKILL comes', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  slow:\n    command: ${argv('ignore-term.mjs')}\n    stop: { timeout: 12s }\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const down = await d.tend(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /^tend: waiting for 1: slow \(SIGTERM sent \d+(\.\d)?s ago, SIGKILL in \d+(\.\d)?s\)$/m);
  assert.match(down.stdout, /^slow\s+stopped/m);
});

test('tend check names tend\'s key for keys of compose, PM2 and supervisord; one problem is "1 problem"', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': 'services:\n  web:\n    command: node server.js\n    environment: { PORT: "3000" }\n    autorestart: true\n',
  });
  const check = await d.tend(['check']);
  assert.equal(check.code, 2);
  assert.match(
    check.stderr,
    /services\.web: unknown key "environment" \(did you mean "env"\?\)\n {2}hint: environment is docker compose's name for tend's env/,
  );
  assert.match(
    check.stderr,
    /unknown key "autorestart" \(did you mean "restart"\?\)\n {2}hint: autorestart is PM2 and supervisord's name for tend's restart: always, on-failure or never/,
  );
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), 'services:\n  web:\n    command: node server.js\n    environment: {}\n');
  assert.match((await d.tend(['up', '-d'])).stderr, /tend: the config is invalid: 1 problem in /);
});

test('a config with no services says so, not "instances: 0"', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': 'services: {}\n' });
  const up = spawnTend(t, ['up'], { cwd: d.dir, env: d.env });
  await up.waitForOutput(/the config has no services; waiting for `tend reload` or Ctrl-C/);
  up.child.kill('SIGINT');
  assert.equal((await up.exited).code, 0);
});
