import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigText } from './load.js';
import { isDeepEqual, planReload, reloadRules, type ReloadPlan } from './plan.js';
import type { Config, ServiceConfig } from './schema.js';

const dir = '/project';

function service(name: string, changes: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    argv: ['node', `${name}.js`],
    shell: false,
    cwd: dir,
    env: { PORT: '3000' },
    instances: 1,
    restart: 'on-failure',
    backoff: { initial: 100, max: 30_000, reset_after: 60_000 },
    start_limit: { burst: 10, interval: 60_000 },
    stop: { signal: 'SIGTERM', timeout: 10_000 },
    max_memory: undefined,
    runAs: null,
    dependsOn: [],
    readiness: null,
    liveness: null,
    startup: null,
    min_uptime: 1000,
    schedule: null,
    cronRestart: null,
    notify: [],
    watch: [],
    watchIgnore: [],
    incrementEnv: [],
    logs: { file: `${dir}/.tend/logs/${name}.log`, max_size: 10 * 1024 ** 2, keep: 5 },
    ...changes,
  };
}

function config(services: ServiceConfig[], changes: Partial<Config> = {}): Config {
  return { file: `${dir}/tend.yaml`, logDir: `${dir}/.tend/logs`, services, api: null, notify: [], ...changes };
}

type Expected = Partial<Omit<ReloadPlan, 'inForce' | 'changed'>>;

const nothing: Omit<ReloadPlan, 'inForce' | 'changed'> = {
  start: [],
  stop: [],
  restart: [],
  scale: [],
  update: [],
  keep: [],
  notes: [],
};

const web = service('web');
const db = service('db');

const table: { name: string; running: Config; next: Config; expected: Expected }[] = [
  { name: 'unchanged', running: config([web, db]), next: config([service('web'), service('db')]), expected: { keep: ['web', 'db'] } },
  {
    name: 'env changed',
    running: config([web]),
    next: config([service('web', { env: { PORT: '3001' } })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'env variable added (from env_file or env)',
    running: config([web]),
    next: config([service('web', { env: { PORT: '3000', DEBUG: '1' } })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'command changed',
    running: config([web]),
    next: config([service('web', { argv: ['node', 'web.js', '--verbose'] })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'command became a shell string',
    running: config([web]),
    next: config([service('web', { argv: ['/bin/sh', '-c', 'node web.js'], shell: true })]),
    expected: { restart: ['web'] },
  },
  { name: 'cwd changed', running: config([web]), next: config([service('web', { cwd: `${dir}/app` })]), expected: { restart: ['web'] } },
  {
    name: 'instances only',
    running: config([web]),
    next: config([service('web', { instances: 3 })]),
    expected: { scale: [{ service: 'web', from: 1, to: 3 }] },
  },
  {
    name: 'instances down to 0',
    running: config([service('web', { instances: 2 })]),
    next: config([service('web', { instances: 0 })]),
    expected: { scale: [{ service: 'web', from: 2, to: 0 }] },
  },
  {
    name: 'instances + env: restart (with the new count)',
    running: config([web]),
    next: config([service('web', { instances: 2, env: {} })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'instances + stop.timeout: scale and update, no restart',
    running: config([web]),
    next: config([service('web', { instances: 2, stop: { signal: 'SIGTERM', timeout: 30_000 } })]),
    expected: { scale: [{ service: 'web', from: 1, to: 2 }], update: ['web'] },
  },
  { name: 'added', running: config([web]), next: config([web, db]), expected: { keep: ['web'], start: ['db'] } },
  { name: 'removed', running: config([web, db]), next: config([db]), expected: { keep: ['db'], stop: ['web'] } },
  {
    name: 'renamed: stop + start',
    running: config([web]),
    next: config([service('www', { argv: web.argv, logs: web.logs })]),
    expected: { start: ['www'], stop: ['web'] },
  },
  {
    name: 'logs.max_size changed: in place (the next spawn reopens the log with it)',
    running: config([web]),
    next: config([service('web', { logs: { ...web.logs, max_size: 1024 } })]),
    expected: { update: ['web'] },
  },
  {
    name: 'logs.file changed: in place (the next spawn writes there)',
    running: config([web]),
    next: config([service('web', { logs: { ...web.logs, file: `${dir}/web.log` } })]),
    expected: { update: ['web'] },
  },
  {
    name: 'user changed: restart as the new user',
    running: config([web]),
    next: config([service('web', { runAs: { uid: 1000, gid: 1000, name: 'app', home: '/home/app', known: true } })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'max_memory set',
    running: config([web]),
    next: config([service('web', { max_memory: 512 * 1024 ** 2 })]),
    expected: { update: ['web'] },
  },
  {
    name: 'max_memory changed',
    running: config([service('web', { max_memory: 1024 })]),
    next: config([service('web', { max_memory: 2048 })]),
    expected: { update: ['web'] },
  },
  {
    name: 'restart policy changed',
    running: config([web]),
    next: config([service('web', { restart: 'always' })]),
    expected: { update: ['web'] },
  },
  {
    name: 'backoff changed',
    running: config([web]),
    next: config([service('web', { backoff: { ...web.backoff, max: 5000 } })]),
    expected: { update: ['web'] },
  },
  {
    name: 'start_limit changed',
    running: config([web]),
    next: config([service('web', { start_limit: { burst: 3, interval: 60_000 } })]),
    expected: { update: ['web'] },
  },
  {
    name: 'stop.signal changed',
    running: config([web]),
    next: config([service('web', { stop: { signal: 'SIGINT', timeout: 10_000 } })]),
    expected: { update: ['web'] },
  },
  {
    name: 'env + logs: restart',
    running: config([web]),
    next: config([service('web', { env: {}, logs: { ...web.logs, keep: 1 } })]),
    expected: { restart: ['web'] },
  },
  {
    name: 'order: the file order of next, then the removed ones in their old order',
    running: config([service('a'), service('b'), service('c'), service('d'), service('e')]),
    next: config([service('z'), service('e', { env: {} }), service('c'), service('y'), service('a', { instances: 2 })]),
    expected: { start: ['z', 'y'], restart: ['e'], keep: ['c'], scale: [{ service: 'a', from: 1, to: 2 }], stop: ['b', 'd'] },
  },
  {
    name: 'log_dir changed: a note; services on the default log file are updated in place',
    running: config([web, service('db', { logs: { ...db.logs, file: `${dir}/db.log` } })]),
    next: config(
      [
        service('web', { logs: { ...web.logs, file: `${dir}/logs/web.log` } }),
        service('db', { logs: { ...db.logs, file: `${dir}/db.log` } }),
      ],
      { logDir: `${dir}/logs` },
    ),
    expected: {
      update: ['web'],
      keep: ['db'],
      notes: [`log_dir changed: new files are written to ${dir}/logs; old ones stay in ${dir}/.tend/logs`],
    },
  },
  {
    name: 'api added: a note, nothing else',
    running: config([web]),
    next: config([web], { api: { host: '127.0.0.1', port: 7070 } }),
    expected: {
      keep: ['web'],
      notes: [
        'api added: the TCP listener on 127.0.0.1:7070 opens only when the engine starts; run `tend down && tend up -d` to apply it (this stops and starts every service)',
      ],
    },
  },
  {
    name: 'api.listen changed',
    running: config([web], { api: { host: '127.0.0.1', port: 7070 } }),
    next: config([web], { api: { host: '::1', port: 0 } }),
    expected: {
      keep: ['web'],
      notes: [
        'api.listen changed from 127.0.0.1:7070 to [::1]:0: the listener stays on 127.0.0.1:7070 until the engine restarts; run `tend down && tend up -d` to apply it (this stops and starts every service)',
      ],
    },
  },
  {
    name: 'api removed',
    running: config([web], { api: { host: '127.0.0.1', port: 7070 } }),
    next: config([web]),
    expected: {
      keep: ['web'],
      notes: [
        'api removed: the TCP listener on 127.0.0.1:7070 stays open until the engine restarts; run `tend down && tend up -d` to apply it (this stops and starts every service)',
      ],
    },
  },
  { name: 'an empty config stops everything', running: config([web, db]), next: config([]), expected: { stop: ['web', 'db'] } },
];

for (const row of table) {
  test(`planReload: ${row.name}`, () => {
    const { inForce, changed: _changed, ...plan } = planReload(row.running, row.next);
    assert.deepEqual(plan, { ...nothing, ...row.expected });
    assert.deepEqual(inForce, { ...row.next, api: row.running.api }, 'next is in force, except the api listener');
  });
}

test('planReload: every service in both configs lands in exactly one of keep, restart, or scale/update', () => {
  for (const row of table) {
    const plan = planReload(row.running, row.next);
    const inBoth = row.next.services.map((s) => s.name).filter((name) => row.running.services.some((s) => s.name === name));
    for (const name of inBoth) {
      const kinds = [
        plan.keep.includes(name),
        plan.restart.includes(name),
        plan.scale.some((s) => s.service === name) || plan.update.includes(name),
      ];
      assert.equal(kinds.filter(Boolean).length, 1, `${row.name}: ${name}`);
    }
  }
});

test('planReload is pure: it changes neither config', () => {
  const running = config([web, db]);
  const next = config([service('web', { instances: 2 })], { api: { host: '127.0.0.1', port: 1 } });
  const copies = structuredClone([running, next]);
  planReload(running, next);
  assert.deepEqual([running, next], copies);
});

test('reloadRules covers every key load.ts produces, and the same file twice plans nothing', () => {
  const text =
    'log_dir: logs\napi: { listen: 7070 }\nservices:\n  web:\n    command: node web.js\n    max_memory: 1G\n    env: { A: "1" }\n';
  const load = () => {
    const result = loadConfigText({ text, file: `${dir}/tend.yaml`, env: {} });
    if (!result.ok) return assert.fail(result.diagnostics.map((d) => d.message).join('\n'));
    return result.config;
  };
  const running = load();
  assert.deepEqual(Object.keys(running.services[0] ?? {}).sort(), Object.keys(reloadRules).sort());
  const { inForce, changed, ...plan } = planReload(running, load());
  assert.deepEqual(plan, { ...nothing, keep: ['web'] });
  assert.deepEqual(changed, { web: [] });
  assert.deepEqual(inForce, running);
});

test('isDeepEqual', () => {
  const table: [unknown, unknown, boolean][] = [
    [1, 1, true],
    ['a', 'b', false],
    [null, null, true],
    [null, {}, false],
    [undefined, undefined, true],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1], { 0: 1 }, false],
    [{ a: 1, b: [1] }, { b: [1], a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [Number.NaN, Number.NaN, true],
  ];
  for (const [a, b, expected] of table) assert.equal(isDeepEqual(a, b), expected, `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
});

test('planReload says which keys changed, by the names of the file (inside the small maps too)', () => {
  const running = config([web, db]);
  const next = config([
    service('web', { env: { PORT: '3001' }, argv: ['node', 'web2.js'] }),
    service('db', { instances: 2, stop: { signal: 'SIGTERM', timeout: 30_000 }, restart: 'always' }),
  ]);
  assert.deepEqual(planReload(running, next).changed, { web: ['command', 'env'], db: ['instances', 'restart', 'stop.timeout'] });
});
