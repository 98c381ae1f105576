// depends_on against the real bin: a stack starts in dependency order (the events say so) and
// stops in reverse; a failed migration leaves its dependent blocked, `up -d` exits 1 naming it,
// and the dependent starts once the migration is run again with success; `check` prints a cycle.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type Daemon, daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

const stack = (migrateCode: string) => `services:
  web:
    command: ${argv('forever.mjs', 'graceful')}
    depends_on:
      db: { condition: started }
      migrate: { condition: completed }
  migrate:
    command: ${argv('exit-with.mjs', migrateCode)}
    restart: never
  db:
    command: ${argv('forever.mjs', 'graceful')}
`;

type Event = { kind: string; label: string; code?: number | null };
async function events(d: Daemon): Promise<Event[]> {
  const result = await d.tend(['events', '--json', '-n', '1000']);
  return result.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event);
}
const indexOf = (list: Event[], kind: string, label: string) => list.findIndex((e) => e.kind === kind && e.label === label);

test('a stack starts in dependency order, up -d returns once it runs, and down stops it in reverse', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': stack('0') });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /web\s+started \(pid \d+\)/);
  const started = await events(d);
  const webSpawned = indexOf(started, 'spawned', 'web');
  assert.ok(webSpawned > indexOf(started, 'spawned', 'db'), 'web after db started');
  assert.ok(webSpawned > indexOf(started, 'exited', 'migrate'), 'web after migrate completed');
  const refused = await d.tend(['stop', 'db']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^tend: refusing to stop db: web depends on it and runs\n {2}hint: pass --with-dependents/);
  assert.ok((await d.pids()).db, 'db still runs');
  const both = await d.tend(['stop', 'db', '--with-dependents']);
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stdout, /^web\s+stopped\ndb\s+stopped\n/);
  assert.equal((await d.tend(['start', 'web'])).code, 0, 'start web brings db back first');
  const down = await d.tend(['down']);
  assert.equal(down.code, 0, down.stderr);
  // The engine is gone: the events file itself.
  const file = path.join(d.dir, '.tend', 'logs', 'events.jsonl');
  const all = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
  assert.ok(
    indexOf(all, 'stopped', 'web') >= 0 && indexOf(all, 'stopped', 'web') < indexOf(all, 'stopping', 'db'),
    'web stopped before db was asked to stop',
  );
});

test('a failed migration blocks its dependent: up -d exits 1 naming it, ps says blocked, and a good run lets it start', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': stack('3') });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 1, up.stdout + up.stderr);
  assert.match(up.stdout, /web\s+blocked \(migrate: exited \(exit-code\)\); it starts once that recovers/);
  const ps = await d.tend(['ps']);
  assert.match(ps.stdout, /^web\s+blocked \(migrate: exited \(exit-code\)\)\s+-/m);
  assert.equal((await d.pids()).web, null, 'never started around its dependency');
  // The migration fixed: run it again; web follows by itself.
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), stack('0'));
  assert.equal((await d.tend(['reload'])).code, 0);
  await d.tend(['restart', 'migrate']);
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'web')?.phase === 'running', { what: 'web to start' });
});

test('check prints a dependency cycle whole, with its position', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': 'services:\n  a:\n    command: [a]\n    depends_on: [b]\n  b:\n    command: [b]\n    depends_on: [a]\n',
  });
  const check = await d.tend(['check']);
  assert.equal(check.code, 2);
  assert.match(check.stderr, /tend\.yaml:4:18: services\.a\.depends_on\[0\]: dependency cycle: a → b → a/);
});

test('a server that becomes ready late: its dependent waits for the readiness probe, and up -d returns only then', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `services:
  web:
    command: ${argv('forever.mjs', 'graceful')}
    depends_on: { api: { condition: ready } }
  api:
    command: ${argv('late-http.mjs', String(port), '1500')}
    readiness: { http: "http://127.0.0.1:${port}/healthz", period: 200ms, timeout: 1s, failure_threshold: 50 }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /api\s+started \(pid \d+\), ready/);
  const all = await events(d);
  const ready = indexOf(all, 'ready', 'api');
  assert.ok(ready >= 0, 'a ready event');
  assert.ok(indexOf(all, 'spawned', 'web') > ready, 'web spawned after api was ready');
  const ps = await d.tend(['ps']);
  assert.match(ps.stdout, /^api\s+running\s+\d+/m);
});

test('a readiness probe that never passes: up -d exits 1 with the probe output, ps says not ready', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `services:
  api:
    command: ${argv('forever.mjs')}
    readiness: { tcp: ${port}, period: 100ms, failure_threshold: 3 }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 1, up.stdout + up.stderr);
  assert.match(up.stdout, /api\s+started \(pid \d+\) but not ready: 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  assert.match((await d.tend(['ps'])).stdout, /^api\s+running \(not ready\)\s+\d+/m);
});

/** Live processes (not zombies) whose command line starts with `marker`. */
function withMarker(marker: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmdline.startsWith(marker) && state !== 'Z') found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

test('a hung exec probe is timed out and killed; the engine answers meanwhile; killing the engine mid-probe leaves no probe behind', async (t) => {
  const marker = `${31 + Math.random()}`.slice(0, 8); // a sleep no other test runs
  const d = daemonProject(t, {
    'tend.yaml': `services:
  api:
    command: ${argv('forever.mjs')}
    readiness: { exec: ["sleep", "${marker}"], period: 100ms, timeout: 1500ms, failure_threshold: 1000 }
`,
  });
  const up = d.tend(['up', '-d']); // answers only once the probe has a verdict: not before 1000 failures
  await waitFor(() => withMarker(`sleep ${marker}`).length > 0, { what: 'the probe to run' });
  const started = Date.now();
  const status = await d.status();
  t.diagnostic(`ps answered in ${Date.now() - started} ms while a probe hung`);
  assert.equal(status.units[0]?.readiness?.state, 'pending');
  // Each hung check is ended at its timeout: the probe process count never grows.
  await waitFor(() => withMarker(`sleep ${marker}`).length <= 1, { what: 'at most one probe at a time' });
  await waitFor(() => withMarker(`sleep ${marker}`).length === 1, { what: 'a probe under way' });
  const orphans = withMarker(`sleep ${marker}`);
  process.kill(status.engine.pid, 'SIGKILL');
  // The probe under way when its engine died is ended at its deadline all the same (the next
  // engine probes anew: only these PIDs count).
  await waitFor(() => orphans.every((pid) => !withMarker(`sleep ${marker}`).includes(pid)), {
    what: `probe ${orphans.join(', ')} to end after the engine died`,
    timeoutMs: 20_000,
  });
  await waitFor(async () => (await d.status()).units[0]?.readiness?.output.includes('timed out') === true, {
    what: 'the new engine to probe again',
  });
  await d.tend(['down']);
  await up;
});

test('a server that turns unhealthy is restarted by its liveness probe, with the probe output in the event', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `services:
  web:
    command: ${argv('sick-http.mjs', String(port))}
    restart: always
    backoff: { initial: 0 }
    readiness: { http: "http://127.0.0.1:${port}/healthz", period: 100ms, failure_threshold: 50 }
    startup: { http: "http://127.0.0.1:${port}/healthz", period: 100ms, failure_threshold: 600 }
    liveness: { http: "http://127.0.0.1:${port}/healthz", period: 200ms, failure_threshold: 2 }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const before = (await d.pids()).web;
  assert.ok(before);
  assert.equal((await d.tend(['signal', 'web', 'USR1'])).code, 0);
  await waitFor(
    async () => {
      const unit = (await d.status()).units[0];
      return unit?.pid !== null && unit?.pid !== before && unit?.lastResult === 'liveness';
    },
    { what: 'web restarted for liveness', timeoutMs: 20_000 },
  );
  const failed = (await events(d)).find((e) => e.kind === 'probe-failed') as (Event & { probe?: string; output?: string }) | undefined;
  assert.equal(failed?.probe, 'liveness');
  assert.match(failed?.output ?? '', /^HTTP 500 sick$/);
});

test('a job on a per-second schedule runs by itself, not at up; ps shows its next run', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:
  tick:
    command: ${argv('exit-with.mjs', '0')}
    restart: never
    schedule: "* * * * * *"
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.doesNotMatch(up.stdout, /tick\s+started/, 'up leaves it to its schedule');
  await waitFor(async () => (await events(d)).filter((e) => e.kind === 'exited' && e.label === 'tick').length >= 2, {
    what: 'two scheduled runs',
  });
  const unit = (await d.status()).units[0];
  assert.ok(unit?.nextRun !== null && Date.parse(unit?.nextRun ?? '') > Date.now() - 1000, `next run ${unit?.nextRun}`);
  assert.match((await d.tend(['ps'])).stdout, /^tick\s+(scheduled \(next \d\d:\d\d\)|running|starting)/m);
});

test('a log readiness probe: up -d returns once the service says it listens', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `services:
  api:
    command: ${argv('late-http.mjs', String(port), '0')}
    readiness: { log: "listening on \\\\d+", period: 100ms, failure_threshold: 100 }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /api\s+started \(pid \d+\), ready/);
  assert.equal((await d.status()).units[0]?.readiness?.output, `listening on ${port}`);
});

test('a notification fd: up -d returns once the service writes its line; a new engine still knows it is ready', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:
  db:
    command: ["/bin/sh", "-c", "sleep 0.3; echo ready >&3; exec sleep 100000"]
    readiness: { fd: 3 }
  web:
    command: ${argv('forever.mjs', 'graceful')}
    depends_on: { db: { condition: ready } }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /db\s+started \(pid \d+\), ready/);
  const all = await events(d);
  assert.ok(indexOf(all, 'spawned', 'web') > indexOf(all, 'ready', 'db'), 'web spawned after db said it was ready');
  const before = await d.status();
  assert.deepEqual(before.units.find((u) => u.label === 'db')?.readiness, { state: 'ready', output: 'ready line on fd 3' });
  // The line was said once, to the engine that is now killed: the keeper hands it to the next one.
  process.kill(before.engine.pid, 'SIGKILL');
  await waitFor(
    async () => {
      const after = await d.status().catch(() => null);
      return (
        after !== null && after.engine.pid !== before.engine.pid && after.units.find((u) => u.label === 'db')?.readiness?.state === 'ready'
      );
    },
    { what: 'a new engine that knows db is ready', timeoutMs: 30_000 },
  );
});
