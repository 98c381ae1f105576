import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import { TendError } from '../errors.js';
import { formatDiagnostic } from './diagnostics.js';
import { loadConfig, loadConfigText, type LoadResult } from './load.js';
import type { Config } from './schema.js';

const root = fs.realpathSync(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'tend-load-')));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const write = (path: string, text: string) => {
  fs.mkdirSync(nodePath.dirname(nodePath.join(root, path)), { recursive: true });
  fs.writeFileSync(nodePath.join(root, path), text);
};
write('.env', 'SHARED=from-env-file\nONLY_FILE=1\n');
write('.env.local', 'SHARED=from-second-file\n');
fs.mkdirSync(nodePath.join(root, 'app'));

const env = { APP_PORT: '3000', HOME: '/home/someone' };

// The same config three times; each must load to the same Config.
const sources: Record<'yaml' | 'json' | 'toml', string> = {
  yaml: `
x-defaults: &defaults
  restart: always
version: 1
log_dir: logs
api: { listen: "127.0.0.1:\${API_PORT:-7070}" }
services:
  web:
    <<: *defaults
    command: [node, server.js, --port, "\${APP_PORT}"]
    cwd: ./app
    env: { SHARED: from-config, PORT: "\${APP_PORT}", DEBUG: true }
    env_file: [.env, .env.local]
    instances: 2
    backoff: { initial: 1s, max: 1m, reset_after: 2m }
    start_limit: { burst: 3, interval: 30s }
    stop: { signal: INT, timeout: 5s }
    max_memory: 512M
    logs: { file: web-out.log, max_size: 1M, keep: 2 }
  worker:
    command: echo $HOME | tr a-z A-Z
`,
  json: JSON.stringify(
    {
      version: 1,
      log_dir: 'logs',
      api: { listen: '127.0.0.1:${API_PORT:-7070}' },
      services: {
        web: {
          restart: 'always',
          command: ['node', 'server.js', '--port', '${APP_PORT}'],
          cwd: './app',
          env: { SHARED: 'from-config', PORT: '${APP_PORT}', DEBUG: true },
          env_file: ['.env', '.env.local'],
          instances: 2,
          backoff: { initial: '1s', max: '1m', reset_after: '2m' },
          start_limit: { burst: 3, interval: '30s' },
          stop: { signal: 'INT', timeout: '5s' },
          max_memory: '512M',
          logs: { file: 'web-out.log', max_size: '1M', keep: 2 },
        },
        worker: { command: 'echo $HOME | tr a-z A-Z' },
      },
    },
    null,
    2,
  ),
  toml: `
version = 1
log_dir = "logs"
api = { listen = "127.0.0.1:\${API_PORT:-7070}" }

[services.web]
restart = "always"
command = ["node", "server.js", "--port", "\${APP_PORT}"]
cwd = "./app"
env = { SHARED = "from-config", PORT = "\${APP_PORT}", DEBUG = true }
env_file = [".env", ".env.local"]
instances = 2
backoff = { initial = "1s", max = "1m", reset_after = "2m" }
start_limit = { burst = 3, interval = "30s" }
stop.signal = "INT"
stop.timeout = "5s"
max_memory = "512M"
logs = { file = "web-out.log", max_size = "1M", keep = 2 }

[services.worker]
command = 'echo $HOME | tr a-z A-Z'
`,
};

const expected = (file: string): Config => ({
  file,
  logDir: nodePath.join(root, 'logs'),
  services: [
    {
      name: 'web',
      argv: ['node', 'server.js', '--port', '3000'],
      shell: false,
      cwd: nodePath.join(root, 'app'),
      env: { SHARED: 'from-config', ONLY_FILE: '1', PORT: '3000', DEBUG: 'true' },
      instances: 2,
      restart: 'always',
      backoff: { initial: 1000, max: 60_000, reset_after: 120_000 },
      start_limit: { burst: 3, interval: 30_000 },
      stop: { signal: 'SIGINT', timeout: 5000 },
      max_memory: 512 * 1024 ** 2,
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
      logs: { file: nodePath.join(root, 'web-out.log'), max_size: 1024 ** 2, keep: 2 },
    },
    {
      name: 'worker',
      // $HOME is for the shell, not for tend: only ${...} is interpolated.
      argv: ['/bin/sh', '-c', 'echo $HOME | tr a-z A-Z'],
      shell: true,
      cwd: root,
      env: {},
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
      logs: { file: nodePath.join(root, 'logs', 'worker.log'), max_size: 10 * 1024 ** 2, keep: 5 },
    },
  ],
  api: { host: '127.0.0.1', port: 7070 },
  notify: [],
});

function mustLoad(result: LoadResult): { config: Config; warnings: string[] } {
  if (!result.ok) assert.fail(result.diagnostics.map((d) => formatDiagnostic(d, { cwd: root })).join('\n'));
  return { config: result.config, warnings: result.warnings.map((d) => formatDiagnostic(d, { cwd: root })) };
}

for (const [format, text] of Object.entries(sources)) {
  test(`loadConfig: the full example in ${format}`, () => {
    write(`${format}/tend.${format}`, '');
    const file = nodePath.join(root, `tend.${format}`);
    fs.writeFileSync(file, text);
    try {
      const { config, warnings } = mustLoad(loadConfig({ file: `tend.${format}`, cwd: root, env }));
      assert.deepEqual(config, expected(file));
      assert.deepEqual(warnings, []);
      // env = env_file(s) then env: the config's own values only, never tend's environment.
      assert.equal(config.services[0]?.env['HOME'], undefined);
    } finally {
      fs.rmSync(file);
    }
  });
}

test('loadConfig finds the file by walking up and applies every default', () => {
  write('walk/tend.yaml', 'services:\n  "2":\n    command: b\n  "1":\n    command: [a]\n');
  fs.mkdirSync(nodePath.join(root, 'walk/deep/er'), { recursive: true });
  const { config } = mustLoad(loadConfig({ cwd: nodePath.join(root, 'walk/deep/er'), env: {} }));
  assert.equal(config.file, nodePath.join(root, 'walk/tend.yaml'));
  assert.equal(config.logDir, nodePath.join(root, 'walk/.tend/logs'));
  assert.deepEqual(
    config.services.map((s) => s.name),
    ['2', '1'],
    'file order, even for integer-like names',
  );
  assert.deepEqual(config.services[1]?.argv, ['a']);
  assert.equal(config.api, null, 'no TCP listener unless asked for');
  assert.equal(config.services[0]?.max_memory, undefined);
});

test('loadConfig: api.listen forms', () => {
  const table: [string, { host: string; port: number }][] = [
    ['7070', { host: '127.0.0.1', port: 7070 }],
    ['"7070"', { host: '127.0.0.1', port: 7070 }],
    ['0', { host: '127.0.0.1', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['127.1.2.3:80', { host: '127.1.2.3', port: 80 }],
    ['"[::1]:7070"', { host: '::1', port: 7070 }],
    ['{ listen: "0.0.0.0:80", allow_remote: true }', { host: '0.0.0.0', port: 80 }],
    ['{ listen: "[::]:7070", allow_remote: true }', { host: '::', port: 7070 }],
    ['{ listen: "tend.example.org:7070", allow_remote: true }', { host: 'tend.example.org', port: 7070 }],
  ];
  for (const [listen, expected] of table) {
    const api = listen.startsWith('{') ? listen : `{ listen: ${listen} }`;
    const result = loadConfigText({ text: `api: ${api}\nservices: {}\n`, file: nodePath.join(root, 'tend.yaml'), env: {} });
    assert.deepEqual(mustLoad(result).config.api, expected, listen);
  }
});

test('loadConfig: warnings do not make a config invalid', () => {
  const result = loadConfigText({
    text: 'services:\n  web:\n    command: x\n    cwd: not-yet\n',
    file: nodePath.join(root, 'w.yaml'),
    env: {},
  });
  assert.deepEqual(mustLoad(result).warnings, [
    `w.yaml:4:10: services.web.cwd: ${nodePath.join(root, 'not-yet')} is not a directory (yet); starts fail until it is`,
  ]);
  const empty = loadConfigText({ text: 'services: {}\n', file: nodePath.join(root, 'e.yaml'), env: {} });
  assert.deepEqual(mustLoad(empty).warnings, ['e.yaml:1:11: services: no services are defined']);
});

test('loadConfig: a bad line in an env_file is reported in that file, with the config problems', () => {
  write('bad.env', 'GOOD=1\nnot a pair\n');
  const text = 'services:\n  web:\n    command: x\n    env_file: bad.env\n    restart: sometimes\n';
  const result = loadConfigText({ text, file: nodePath.join(root, 'tend.yaml'), env: {} });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.diagnostics.map((d) => formatDiagnostic(d, { cwd: root })),
    [
      'tend.yaml:5:14: services.web.restart: expected always, on-failure or never, got "sometimes"',
      'bad.env:2:1: expected NAME=value, got "not a pair"',
    ],
  );
  assert.equal(result.diagnostics[1]?.code, 'env-file');
});

test('loadConfig throws a TendError only when there is no file to read', () => {
  assert.throws(
    () => loadConfig({ file: 'missing.yaml', cwd: root, env: {} }),
    (e: unknown) => e instanceof TendError && e.code === 'TEND_CONFIG_UNREADABLE',
  );
});

test('diagnostics use stable codes', () => {
  const text =
    'services:\n  web:\n    comand: x\n    command: ""\n    instances: two\n    stop: { timeout: 5 }\n    env: { A: "${NOPE}" }\n';
  const result = loadConfigText({ text, file: nodePath.join(root, 'tend.yaml'), env: {} });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.diagnostics.map((d) => d.code),
    ['unknown-key', 'empty-command', 'invalid-type', 'invalid-duration', 'undefined-variable'],
  );
});
