// The table of bad configs: each file and the exact lines `tend check` prints for it, positions
// included. Messages are product surface (scripts and people read them), so a change to one shows
// up here as a diff to review, not as a silently different sentence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from './diagnostics.js';
import { loadConfigText } from './load.js';

// A directory that does not exist: env_file reads fail, and paths print relative to it.
const dir = '/nonexistent-tend-test/project';

interface BadConfig {
  readonly name: string;
  readonly file: 'tend.yaml' | 'tend.json' | 'tend.toml';
  readonly text: readonly string[];
  readonly env?: Record<string, string>;
  readonly expected: readonly string[];
}

const table: readonly BadConfig[] = [
  {
    name: 'unknown top-level key with did-you-mean',
    file: 'tend.yaml',
    text: [
      'servics:',
      '  web:',
      '    command: node server.js',
    ],
    expected: [
      'tend.yaml:1:1: unknown key "servics" (did you mean "services"?)',
    ],
  },
  {
    name: 'unknown top-level key without suggestion',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      'colour: blue',
    ],
    expected: [
      'tend.yaml:4:1: unknown key "colour"\n  hint: allowed here: version, log_dir, services',
    ],
  },
  {
    name: 'unknown service key with did-you-mean',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    comand: node server.js',
    ],
    expected: [
      'tend.yaml:3:5: services.web: unknown key "comand" (did you mean "command"?)',
    ],
  },
  {
    name: 'unknown key in backoff',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    backoff:',
      '      intial: 1s',
    ],
    expected: [
      'tend.yaml:5:7: services.web.backoff: unknown key "intial" (did you mean "initial"?)',
    ],
  },
  {
    name: 'unknown key in stop',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    stop: { signl: SIGINT }',
    ],
    expected: [
      'tend.yaml:4:13: services.web.stop: unknown key "signl" (did you mean "signal"?)',
    ],
  },
  {
    name: 'unknown key in start_limit (transposed)',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    start_limit: { brust: 3 }',
    ],
    expected: [
      'tend.yaml:4:20: services.web.start_limit: unknown key "brust" (did you mean "burst"?)',
    ],
  },
  {
    name: 'bad restart value with did-you-mean',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    restart: allways',
    ],
    expected: [
      'tend.yaml:4:14: services.web.restart: expected always, on-failure or never, got "allways" (did you mean "always"?)',
    ],
  },
  {
    name: 'restart with underscore',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    restart: on_failure',
    ],
    expected: [
      'tend.yaml:4:14: services.web.restart: expected always, on-failure or never, got "on_failure" (did you mean "on-failure"?)',
    ],
  },
  {
    name: 'restart of the wrong type',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    restart: true',
    ],
    expected: [
      'tend.yaml:4:14: services.web.restart: expected always, on-failure or never, got true',
    ],
  },
  {
    name: 'instances as a word',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    instances: two',
    ],
    expected: [
      'tend.yaml:4:16: services.web.instances: expected an integer >= 0, got "two"',
    ],
  },
  {
    name: 'negative instances',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    instances: -1',
    ],
    expected: [
      'tend.yaml:4:16: services.web.instances: expected an integer >= 0, got -1',
    ],
  },
  {
    name: 'non-integer instances',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    instances: 1.5',
    ],
    expected: [
      'tend.yaml:4:16: services.web.instances: expected an integer >= 0, got 1.5',
    ],
  },
  {
    name: 'start_limit.burst 0',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    start_limit:',
      '      burst: 0',
    ],
    expected: [
      'tend.yaml:5:14: services.web.start_limit.burst: expected an integer >= 1, got 0',
    ],
  },
  {
    name: 'bad duration',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    stop:',
      '      timeout: 10 seconds',
    ],
    expected: [
      'tend.yaml:5:16: services.web.stop.timeout: expected a duration like 250ms, 10s, 5m or 1h, got "10 seconds"',
    ],
  },
  {
    name: 'bare number duration',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    backoff: { initial: 10 }',
    ],
    expected: [
      'tend.yaml:4:25: services.web.backoff.initial: expected a duration like 250ms, 10s, 5m or 1h, got 10 (add a unit: "10s" or "10ms")',
    ],
  },
  {
    name: 'backoff.max below initial',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    backoff: { initial: 5s, max: 1s }',
    ],
    expected: [
      'tend.yaml:4:34: services.web.backoff.max: must be at least initial (5s), got 1s',
    ],
  },
  {
    name: 'bad size',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    logs:',
      '      max_size: 10 megabytes',
    ],
    expected: [
      'tend.yaml:5:17: services.web.logs.max_size: expected a size like 512K, 10M or 1G, got "10 megabytes"',
    ],
  },
  {
    name: 'zero size',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    logs: { max_size: 0 }',
    ],
    expected: [
      'tend.yaml:4:23: services.web.logs.max_size: expected a size greater than 0, got 0',
    ],
  },
  {
    name: 'bad signal name with did-you-mean',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    stop: { signal: SIGTREM }',
    ],
    expected: [
      'tend.yaml:4:21: services.web.stop.signal: expected a signal name such as SIGTERM, SIGINT or SIGQUIT, got "SIGTREM" (did you mean "SIGTERM"?)',
    ],
  },
  {
    name: 'signal not a string',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    stop: { signal: 15 }',
    ],
    expected: [
      'tend.yaml:4:21: services.web.stop.signal: expected a signal name such as SIGTERM, got 15',
    ],
  },
  {
    name: 'empty string command',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: ""',
    ],
    expected: [
      'tend.yaml:3:14: services.web.command: the command is empty',
    ],
  },
  {
    name: 'blank string command',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: \'   \'',
    ],
    expected: [
      'tend.yaml:3:14: services.web.command: the command is empty',
    ],
  },
  {
    name: 'empty array command',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: []',
    ],
    expected: [
      'tend.yaml:3:14: services.web.command: the command is empty',
    ],
  },
  {
    name: 'array command with empty program',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: [""]',
    ],
    expected: [
      'tend.yaml:3:15: services.web.command[0]: the program name is empty',
    ],
  },
  {
    name: 'command element not a string',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: [node, 3000]',
    ],
    expected: [
      'tend.yaml:3:21: services.web.command[1]: expected a string, got 3000',
    ],
  },
  {
    name: 'command a map',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: { run: x }',
    ],
    expected: [
      'tend.yaml:3:14: services.web.command: expected a command: a string, or a list of strings with the program first, got a map',
    ],
  },
  {
    name: 'missing command',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    restart: always',
    ],
    expected: [
      'tend.yaml:2:3: services.web: missing required key "command"',
    ],
  },
  {
    name: 'service is empty',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
    ],
    expected: [
      'tend.yaml:2:3: services.web: expected a map of settings (command, env, restart, ...), got an empty value',
    ],
  },
  {
    name: 'duplicate service names (yaml)',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: a',
      '  web:',
      '    command: b',
    ],
    expected: [
      'tend.yaml:4:3: services: duplicate service name "web" (first defined on line 2)',
    ],
  },
  {
    name: 'duplicate key in a service (yaml)',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: a',
      '    restart: never',
      '    restart: always',
    ],
    expected: [
      'tend.yaml:5:5: services.web: duplicate key "restart" (first defined on line 4)',
    ],
  },
  {
    name: 'duplicate service names (json)',
    file: 'tend.json',
    text: [
      '{',
      '  "services": {',
      '    "web": { "command": "a" },',
      '    "web": { "command": "b" }',
      '  }',
      '}',
    ],
    expected: [
      'tend.json:4:5: services: duplicate service name "web" (first defined on line 3)',
    ],
  },
  {
    name: 'duplicate service names (toml)',
    file: 'tend.toml',
    text: [
      '[services.web]',
      'command = "a"',
      '',
      '[services.web]',
      'command = "b"',
    ],
    expected: [
      'tend.toml:4:1: services: duplicate service name "web" (first defined on line 1)',
    ],
  },
  {
    name: 'undefined variable',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: [node, server.js]',
      '    env:',
      '      DATABASE_URL: postgres://${DB_HOST}/app',
    ],
    expected: [
      'tend.yaml:5:21: services.web.env.DATABASE_URL: ${DB_HOST} is not set\n  hint: set DB_HOST in the environment tend runs in, or give a default: ${DB_HOST:-value}',
    ],
  },
  {
    name: 'bad variable reference',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: echo ${1}',
    ],
    expected: [
      'tend.yaml:3:14: services.web.command: bad variable reference "${1}"\n  hint: write ${NAME} or ${NAME:-default} (and $$ for a literal $)',
    ],
  },
  {
    name: 'unterminated variable reference',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    cwd: ${APP_DIR',
      '    command: x',
    ],
    expected: [
      'tend.yaml:3:10: services.web.cwd: "${" without a closing "}" in "${APP_DIR"\n  hint: write $$ for a literal $',
    ],
  },
  {
    name: 'missing env_file',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env_file: .env.missing',
    ],
    expected: [
      'tend.yaml:4:15: services.web.env_file: cannot read ".env.missing": it does not exist\n  hint: env_file paths are relative to the config file\'s directory (/nonexistent-tend-test/project)',
    ],
  },
  {
    name: 'missing env_file in a list',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env_file:',
      '      - .env.missing',
    ],
    expected: [
      'tend.yaml:5:9: services.web.env_file[0]: cannot read ".env.missing": it does not exist\n  hint: env_file paths are relative to the config file\'s directory (/nonexistent-tend-test/project)',
    ],
  },
  {
    name: 'env value a map',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env:',
      '      PORT: { value: 1 }',
    ],
    expected: [
      'tend.yaml:5:13: services.web.env.PORT: expected a string, number or boolean, got a map',
    ],
  },
  {
    name: 'env a list',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env: [PORT=1]',
    ],
    expected: [
      'tend.yaml:4:10: services.web.env: expected a map of NAME: value, got a list',
    ],
  },
  {
    name: 'YAML syntax error',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: [node, server.js',
      '    restart: always',
    ],
    expected: [
      'tend.yaml:4:5: syntax error: flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    name: 'YAML tab indentation',
    file: 'tend.yaml',
    text: [
      'services:',
      '\tweb:',
      '\t\tcommand: x',
    ],
    expected: [
      'tend.yaml:2:1: syntax error: tabs are not allowed as indentation',
      'tend.yaml:3:1: syntax error: tabs are not allowed as indentation',
    ],
  },
  {
    name: 'TOML syntax error',
    file: 'tend.toml',
    text: [
      '[services.web]',
      'command = node server.js',
    ],
    expected: [
      'tend.toml:2:11: syntax error: invalid value',
    ],
  },
  {
    name: 'TOML unterminated string',
    file: 'tend.toml',
    text: [
      '[services.web]',
      'command = "node',
    ],
    expected: [
      'tend.toml:2:16: syntax error: control characters are not allowed in strings',
    ],
  },
  {
    name: 'JSON syntax error: trailing comma',
    file: 'tend.json',
    text: [
      '{',
      '  "services": {',
      '    "web": { "command": "x", }',
      '  }',
      '}',
    ],
    expected: [
      'tend.json:3:30: syntax error: expected double-quoted property name',
    ],
  },
  {
    name: 'JSON syntax error: bare word',
    file: 'tend.json',
    text: [
      '{',
      '  "services": {',
      '    "web": { "command": node }',
      '  }',
      '}',
    ],
    expected: [
      'tend.json:3:25: syntax error: unexpected word node (a string needs "double quotes")',
    ],
  },
  {
    name: 'JSON unexpected end',
    file: 'tend.json',
    text: [
      '{',
      '  "services": {',
      '    "web": { "command": "x" }',
    ],
    expected: [
      'tend.json:3:30: syntax error: unexpected end of file (expected \',\' or \'}\' after property value)',
    ],
  },
  {
    name: 'services missing',
    file: 'tend.yaml',
    text: [
      'version: 1',
    ],
    expected: [
      'tend.yaml:1:1: missing required key "services"',
    ],
  },
  {
    name: 'services empty value',
    file: 'tend.yaml',
    text: [
      'services:',
    ],
    expected: [
      'tend.yaml:1:1: services: expected a map of service names to services, got an empty value',
    ],
  },
  {
    name: 'services not a map',
    file: 'tend.yaml',
    text: [
      'services:',
      '  - web',
    ],
    expected: [
      'tend.yaml:2:3: services: expected a map of service names to services, got a list',
    ],
  },
  {
    name: 'top level a list',
    file: 'tend.yaml',
    text: [
      '- web',
    ],
    expected: [
      'tend.yaml:1:1: expected a map with a "services" key, got a list',
    ],
  },
  {
    name: 'empty file',
    file: 'tend.yaml',
    text: [
      '',
    ],
    expected: [
      'tend.yaml:1:1: expected a map with a "services" key, got an empty value',
    ],
  },
  {
    name: 'bad service name',
    file: 'tend.yaml',
    text: [
      'services:',
      '  my web:',
      '    command: x',
    ],
    expected: [
      'tend.yaml:2:3: services: bad service name "my web": use letters, digits, - and _, starting with a letter or digit',
    ],
  },
  {
    name: 'service name with a dot',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web.1:',
      '    command: x',
    ],
    expected: [
      'tend.yaml:2:3: services: bad service name "web.1": use letters, digits, - and _, starting with a letter or digit',
    ],
  },
  {
    name: 'bad version',
    file: 'tend.yaml',
    text: [
      'version: 2',
      'services:',
      '  web:',
      '    command: x',
    ],
    expected: [
      'tend.yaml:1:10: version: expected 1, got 2',
    ],
  },
  {
    name: 'cwd empty',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    cwd: ""',
    ],
    expected: [
      'tend.yaml:4:10: services.web.cwd: expected a directory path, got ""',
    ],
  },
  {
    name: 'log file claimed twice',
    file: 'tend.yaml',
    text: [
      'services:',
      '  a:',
      '    command: x',
      '  b:',
      '    command: y',
      '    logs: { file: .tend/logs/a.log }',
    ],
    expected: [
      'tend.yaml:6:19: services.b.logs.file: /nonexistent-tend-test/project/.tend/logs/a.log is already the log file of services.a',
    ],
  },
  {
    name: 'several problems in one file (yaml)',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    comand: node server.js',
      '    restart: allways',
      '    instances: -2',
      '  worker:',
      '    command: []',
      '    stop: { timeout: soon }',
      '  db:',
      '    command: postgres',
      '    backoff: { max: 1h, intial: 1s }',
      'logdir: /tmp',
    ],
    expected: [
      'tend.yaml:3:5: services.web: unknown key "comand" (did you mean "command"?)',
      'tend.yaml:4:14: services.web.restart: expected always, on-failure or never, got "allways" (did you mean "always"?)',
      'tend.yaml:5:16: services.web.instances: expected an integer >= 0, got -2',
      'tend.yaml:7:14: services.worker.command: the command is empty',
      'tend.yaml:8:22: services.worker.stop.timeout: expected a duration like 250ms, 10s, 5m or 1h, got "soon"',
      'tend.yaml:11:25: services.db.backoff: unknown key "intial" (did you mean "initial"?)',
      'tend.yaml:12:1: unknown key "logdir" (did you mean "log_dir"?)',
    ],
  },
  {
    name: 'several problems in one file (toml)',
    file: 'tend.toml',
    text: [
      'log_dir = 3',
      '',
      '[services.web]',
      'comand = "x"',
      'restart = "allways"',
      'backoff = { initial = "1s", max = 10 }',
      '',
      '[services.db]',
      'command = ["pg", 5]',
      'stop.signal = "FOO"',
    ],
    expected: [
      'tend.toml:1:11: log_dir: expected a directory path, got 3',
      'tend.toml:4:1: services.web: unknown key "comand" (did you mean "command"?)',
      'tend.toml:5:11: services.web.restart: expected always, on-failure or never, got "allways" (did you mean "always"?)',
      'tend.toml:6:35: services.web.backoff.max: expected a duration like 250ms, 10s, 5m or 1h, got 10 (add a unit: "10s" or "10ms")',
      'tend.toml:9:18: services.db.command[1]: expected a string, got 5',
      'tend.toml:10:15: services.db.stop.signal: expected a signal name such as SIGTERM, SIGINT or SIGQUIT, got "FOO"',
    ],
  },
  {
    name: 'several problems in one file (json)',
    file: 'tend.json',
    text: [
      '{',
      '  "services": {',
      '    "web": {',
      '      "command": ["node", "server.js"],',
      '      "instances": "2",',
      '      "stop": { "signal": "SIGTERM", "timeout": 10 }',
      '    },',
      '    "Bad Name": { "command": "x" }',
      '  },',
      '  "extra": true',
      '}',
    ],
    expected: [
      'tend.json:5:20: services.web.instances: expected an integer >= 0, got "2"',
      'tend.json:6:49: services.web.stop.timeout: expected a duration like 250ms, 10s, 5m or 1h, got 10 (add a unit: "10s" or "10ms")',
      'tend.json:8:5: services: bad service name "Bad Name": use letters, digits, - and _, starting with a letter or digit',
      'tend.json:10:3: unknown key "extra"\n  hint: allowed here: version, log_dir, services',
    ],
  },

];

test('the table is large enough to mean something', () => {
  assert.ok(table.length >= 30, `only ${table.length} cases`);
});

for (const row of table) {
  test(`bad config: ${row.name}`, () => {
    const result = loadConfigText({ text: `${row.text.join('\n')}\n`, file: `${dir}/${row.file}`, env: row.env ?? {} });
    assert.equal(result.ok, false, 'the config was accepted');
    if (result.ok) return;
    assert.deepEqual(result.diagnostics.map((d) => formatDiagnostic(d, { cwd: dir })), row.expected);
  });
}
