// tend's central promise where it breaks: many services, a starved CPU, and tend itself killed
// at random moments of a large start. Never a second copy of a service; the keeper never dies
// of load; an engine that is merely starved is not taken for a hung one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isAlive, readStat } from '../../src/host/proc.js';
import { daemonProject, type Daemon } from '../helpers/daemon.js';
import { endGroup, trackGroup, trackPid } from '../helpers/leak-guard.js';
import { spawnTend } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';

/** A config of n `sleep` services, each carrying a token in its environment so copies can be counted. */
function fleet(n: number, token: string, extra = ''): string {
  let yaml = 'services:\n';
  for (let i = 0; i < n; i++)
    yaml += `  s${i}:\n    command: ["sleep", "100000"]\n    restart: always\n    env: { COPY_TOKEN: "${token}" }\n${extra}`;
  return yaml;
}

/** Every live process, with one of its /proc files split on NUL (environ, cmdline). */
function* processesWith(file: 'environ' | 'cmdline'): Generator<[number, string[]]> {
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let fields: string[];
    try {
      fields = fs.readFileSync(`/proc/${pid}/${file}`, 'latin1').split('\0');
    } catch {
      continue;
    }
    if (isAlive(pid)) yield [pid, fields];
  }
}

/** Live copies per service (TEND_SERVICE) of processes carrying the token; tracked for the leak guard. */
function copies(token: string): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const [pid, environ] of processesWith('environ')) {
    if (!environ.includes(`COPY_TOKEN=${token}`)) continue;
    const service = environ.find((entry) => entry.startsWith('TEND_SERVICE=')) ?? '?';
    found.set(service, [...(found.get(service) ?? []), pid]);
    if (readStat(pid)?.pgrp === pid) trackGroup(pid);
  }
  return found;
}

const duplicated = (found: Map<string, number[]>) => [...found].filter(([, pids]) => pids.length > 1);
const total = (found: Map<string, number[]>) => [...found.values()].reduce((sum, pids) => sum + pids.length, 0);

/** The keeper and engine of this project, from their command lines. */
function tendProcesses(configFile: string): { keeper: number | null; engine: number | null } {
  const found = { keeper: null as number | null, engine: null as number | null };
  for (const [pid, argv] of processesWith('cmdline')) {
    if (!argv.includes(configFile)) continue;
    if (argv.some((arg) => arg.endsWith('keeper/main.js'))) found.keeper = pid;
    else if (argv.includes('engine') && argv.includes('--keeper')) found.engine = pid;
  }
  return found;
}

/** The tail of every log tend keeps of itself (keeper.log, engine.log) in the project's runtime dir. */
function tendLogs(dir: string): string {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/^(keeper|engine)\.log$/.test(entry.name)) {
        // The lines that say something: not the refusals of keepers that found the project taken.
        const lines = fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => !line.includes('an engine is already running for'));
        found.push(`${file}:\n${lines.slice(-80).join('\n')}`);
      }
    }
  };
  walk(path.join(dir, '.runtime'));
  return found.join('\n');
}

const kill = (pid: number | null) => {
  if (pid === null) return;
  trackPid(pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

async function waitForAllRunning(d: Daemon, n: number, timeoutMs: number): Promise<void> {
  let seen = 'no answer yet';
  await waitFor(
    async () => {
      try {
        const { units } = await d.status();
        const phases = new Map<string, number>();
        for (const u of units) phases.set(u.phase, (phases.get(u.phase) ?? 0) + 1);
        const odd = units.filter((u) => u.phase !== 'running').slice(0, 5);
        seen = `${units.length} units: ${[...phases].map(([p, k]) => `${k} ${p}`).join(', ')}; ${JSON.stringify(odd)}`;
        return units.length === n && units.every((u) => u.phase === 'running');
      } catch (error) {
        seen = `status failed: ${String(error)}`;
        return false;
      }
    },
    { what: `${n} services running`, timeoutMs, seen: () => seen },
  );
}

test('SIGKILL of keeper, engine or both at random moments of a 500-service start, 20 times: never a second copy', {
  timeout: 600_000,
}, async (t) => {
  const n = 500;
  const token = randomUUID();
  const d = daemonProject(t, { 'tend.yaml': fleet(n, token) });
  const configFile = path.join(fs.realpathSync(d.dir), 'tend.yaml');
  t.after(async () => {
    await d.tend(['down']);
    for (const pids of copies(token).values()) for (const pid of pids) await endGroup(pid);
  });
  const modes = ['keeper', 'engine', 'both', 'engine, then keeper'] as const;
  const log: string[] = [];
  for (let round = 0; round < 20; round++) {
    const starting = d.tend(['up', '-d']);
    const delay = Math.floor(Math.random() * 3000);
    await new Promise((resolve) => setTimeout(resolve, delay));
    const mode = modes[round % modes.length] ?? 'both';
    const { keeper, engine } = tendProcesses(configFile);
    if (mode === 'keeper') kill(keeper);
    else if (mode === 'engine') kill(engine);
    else if (mode === 'both') [keeper, engine].forEach(kill);
    else [engine, keeper].forEach(kill);
    const result = await starting;
    const found = copies(token);
    log.push(
      `round ${round}: killed ${mode} after ${delay} ms (keeper ${keeper}, engine ${engine}); up -d exit ${result.code}; ${total(found)} services alive`,
    );
    assert.deepEqual(duplicated(found), [], `a second copy after ${log.join('\n')}`);
  }
  // Recover: whatever the last round left, `up -d` ends it and runs exactly one of each. It may
  // meet the last round's keeper still bringing an engine back: it is asked again until it succeeds.
  let lastUp = '';
  const phases = async () => {
    const ps = await d.tend(['ps', '--json']);
    if (ps.code !== 0) return `ps exit ${ps.code}: ${ps.stderr.slice(0, 300)}`;
    const counts = new Map<string, number>();
    for (const u of (JSON.parse(ps.stdout) as { units: { phase: string }[] }).units) counts.set(u.phase, (counts.get(u.phase) ?? 0) + 1);
    return [...counts].map(([phase, k]) => `${k} ${phase}`).join(', ');
  };
  const failed = (error: Error) => {
    throw new Error(`${error.message}\n--- rounds ---\n${log.join('\n')}\n--- tend's own logs ---\n${tendLogs(d.dir)}`);
  };
  await waitFor(
    async () => {
      const up = await d.tend(['up', '-d']);
      lastUp = `up -d exit ${up.code}: ${up.stderr.slice(-1500)}; ps: ${await phases()}`;
      return up.code === 0;
    },
    { what: 'an up -d that succeeds', timeoutMs: 180_000, seen: () => lastUp },
  ).catch(failed);
  await waitForAllRunning(d, n, 120_000).catch(failed);
  const found = copies(token);
  assert.equal(found.size, n, log.join('\n'));
  assert.deepEqual(duplicated(found), [], log.join('\n'));
  assert.equal((await d.tend(['down'])).code, 0);
  await waitFor(() => total(copies(token)) === 0, { what: 'no service left after down' });
});

test('a foreground tend SIGKILLed in the middle of a 300-service start: the next up ends what it left, never a second copy', {
  timeout: 300_000,
}, async (t) => {
  const n = 300;
  const token = randomUUID();
  const d = daemonProject(t, { 'tend.yaml': fleet(n, token) });
  const tend = spawnTend(t, ['up'], { cwd: d.dir, env: d.env });
  await waitFor(() => total(copies(token)) >= n / 3, { what: 'a third of the services to run', timeoutMs: 120_000 });
  tend.child.kill('SIGKILL');
  await tend.exited;
  assert.ok(total(copies(token)) > 0, 'services outlived a SIGKILLed foreground tend');
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  const found = copies(token);
  assert.equal(found.size, n);
  assert.deepEqual(duplicated(found), []);
});

test('1,000 services with -d: all start, ps answers, down stops every one', { timeout: 300_000 }, async (t) => {
  const n = 1000;
  const token = randomUUID();
  const d = daemonProject(t, { 'tend.yaml': fleet(n, token) });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout.split('\n').filter((line) => / started \(pid \d+\)/.test(line)).length, n);
  const status = await d.status();
  assert.equal(status.units.filter((u) => u.phase === 'running').length, n);
  assert.equal(total(copies(token)), n);
  const down = await d.tend(['down']);
  assert.equal(down.code, 0, down.stderr);
  await waitFor(() => total(copies(token)) === 0, { what: 'no service left after down' });
});

test('1,000 services in the foreground: all start, Ctrl-C stops every one and exits 0', { timeout: 300_000 }, async (t) => {
  const n = 1000;
  const token = randomUUID();
  const d = daemonProject(t, { 'tend.yaml': fleet(n, token) });
  const tend = spawnTend(t, ['up'], { cwd: d.dir, env: d.env });
  await waitForAllRunning(d, n, 240_000);
  assert.equal(total(copies(token)), n);
  tend.child.kill('SIGINT');
  const { code } = await tend.exited;
  assert.equal(code, 0, tend.output().slice(-2000));
  await waitFor(() => total(copies(token)) === 0, { what: 'no service left after Ctrl-C' });
});

test('a stopped (starved) engine is not taken for a hung one: after 8 s without a turn it is still the engine', {
  timeout: 60_000,
}, async (t) => {
  const d = daemonProject(t, { 'tend.yaml': 'services:\n  web:\n    command: ["sleep", "100000"]\n' });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const before = await d.status();
  // SIGSTOP: the engine neither answers nor uses CPU, as on a CPU starved by a quota.
  process.kill(before.engine.pid, 'SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 8000));
  const stat = readStat(before.engine.pid);
  process.kill(before.engine.pid, 'SIGCONT');
  assert.equal(stat?.state, 'T', 'the engine was still there, stopped, after 8 s');
  const after = await d.status();
  assert.equal(after.engine.pid, before.engine.pid);
  assert.deepEqual(
    after.units.map((u) => u.pid),
    before.units.map((u) => u.pid),
  );
});

/** A cgroup v1 cpu controller we may write (root): where a CPU quota can be set for a test. */
function cpuCgroupRoot(): string | null {
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    try {
      fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
      if (fs.existsSync(path.join(dir, 'cpu.cfs_quota_us'))) return dir;
    } catch {
      // not there or not ours
    }
  }
  return null;
}

function quotaGroup(t: TestContext, percent: number): string {
  const root = cpuCgroupRoot() ?? '';
  const dir = path.join(root, `tend-test-${process.pid}-${randomUUID().slice(0, 8)}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
  fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(percent * 1000));
  t.after(async () => {
    // The group can go once every process in it is gone.
    await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', {
      what: `${dir} to be empty`,
      timeoutMs: 60_000,
    }).catch(() => {});
    fs.rmdirSync(dir);
  });
  return dir;
}

const quotaSkip = cpuCgroupRoot() === null ? 'no writable cgroup v1 cpu controller here (needs root)' : false;

test('200 services on 20% of one core (a CPU quota): up -d, ps and down all work; the keeper never dies, nothing is left', {
  skip: quotaSkip,
  timeout: 600_000,
}, async (t) => {
  const n = 200;
  const token = randomUUID();
  const d = daemonProject(t, { 'tend.yaml': fleet(n, token) });
  const group = quotaGroup(t, 20);
  const inQuota = (args: string) => [
    'sh',
    '-c',
    `echo $$ > ${group}/cgroup.procs && exec "$@"`,
    'sh',
    process.execPath,
    path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'src', 'main.js'),
    ...args.split(' '),
  ];
  const { execFile } = await import('node:child_process');
  const run = (args: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const [program = '', ...rest] = inQuota(args);
      execFile(
        program,
        rest,
        { cwd: d.dir, env: { ...process.env, ...d.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const up = await run('up -d');
  assert.equal(up.code, 0, up.out.slice(-2000));
  const keeper = tendProcesses(path.join(fs.realpathSync(d.dir), 'tend.yaml')).keeper;
  assert.ok(keeper !== null, 'the keeper runs');
  trackPid(keeper);
  const ps = await run('ps --json');
  assert.equal(ps.code, 0, ps.out.slice(-2000));
  assert.equal((JSON.parse(ps.out) as { units: Array<{ phase: string }> }).units.filter((u) => u.phase === 'running').length, n);
  assert.equal(total(copies(token)), n);
  assert.deepEqual(duplicated(copies(token)), []);
  const engineLog = fs.readFileSync(
    path.join(d.env.TEND_RUNTIME_DIR ?? '', fs.readdirSync(d.env.TEND_RUNTIME_DIR ?? '')[0] ?? '', 'engine.log'),
    'utf8',
  );
  assert.doesNotMatch(engineLog, /is hung|died|internal error/, engineLog);
  const down = await run('down');
  assert.equal(down.code, 0, down.out.slice(-2000));
  await waitFor(() => total(copies(token)) === 0 && !isAlive(keeper), { what: 'services and keeper gone after down', timeoutMs: 60_000 });
});
