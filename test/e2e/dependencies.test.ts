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
