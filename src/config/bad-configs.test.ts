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
  /** The stable codes scripts match on, in the same order. */
  readonly codes: readonly string[];
}

// biome-ignore format: one config line per array line, as the file reads
const table: readonly BadConfig[] = [
  {
    name: 'probes: a pattern that is not a regular expression',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    readiness: { log: "listening (" }',
    ],
    expected: [
      'tend.yaml:4:23: services.web.readiness.log: not a regular expression: /listening (/: Unterminated group',
    ],
    codes: ['invalid-probe'],
  },
  {
    name: 'probes: a log probe cannot say a service still works',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    liveness: { log: "ok" }',
    ],
    expected: [
      'tend.yaml:4:22: services.web.liveness.log: a log probe says when a service is ready: use it for readiness or startup, not liveness',
    ],
    codes: ['invalid-probe'],
  },
  {
    name: 'probes: a notification fd is for readiness only',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    liveness: { fd: 4 }',
      '    startup: { fd: 3 }',
    ],
    expected: [
      'tend.yaml:4:21: services.web.liveness.fd: a notification fd says once that a service is ready: use it for readiness, not liveness',
      'tend.yaml:5:20: services.web.startup.fd: a notification fd says once that a service is ready: use it for readiness, not startup',
    ],
    codes: ['invalid-probe', 'invalid-probe'],
  },
  {
    name: 'probes: a notification fd from 3 to 63',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    readiness: { fd: 2 }',
    ],
    expected: [
      'tend.yaml:4:22: services.web.readiness.fd: expected an integer from 3 to 63, got 2',
    ],
    codes: ['invalid-value'],
  },
  {
    name: 'keys from compose, PM2 and supervisord: tend names its own',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    script: node server.js',
      '    environment: { PORT: "3000" }',
      '    max_memory_restart: 200M',
      '    stopsignal: INT',
      '    image: node:20',
    ],
    expected: [
      'tend.yaml:3:5: services.web: unknown key "script" (did you mean "command"?)\n  hint: script is PM2\'s name for tend\'s command',
      'tend.yaml:4:5: services.web: unknown key "environment" (did you mean "env"?)\n  hint: environment is docker compose\'s name for tend\'s env',
      'tend.yaml:5:5: services.web: unknown key "max_memory_restart" (did you mean "max_memory"?)\n  hint: max_memory_restart is PM2\'s name for tend\'s max_memory',
      'tend.yaml:6:5: services.web: unknown key "stopsignal" (did you mean "stop.signal"?)\n  hint: stopsignal is supervisord\'s name for tend\'s stop.signal',
      'tend.yaml:7:5: services.web: unknown key "image"\n  hint: tend runs processes, not containers: give the command to run as `command`',
    ],
    codes: ['unknown-key', 'unknown-key', 'unknown-key', 'unknown-key', 'unknown-key'],
  },
  {
    name: 'increment_env: a variable of env that holds a number',
    file: 'tend.yaml',
    text: [
      'services:',
      '  api:',
      '    command: node server.js',
      '    env: { PORT: "http" }',
      '    increment_env: [PORT, METRICS_PORT]',
    ],
    expected: [
      'tend.yaml:5:21: services.api.increment_env[0]: PORT is "http" in env, not a whole number',
      'tend.yaml:5:27: services.api.increment_env[1]: METRICS_PORT is not in this service\'s env: give it a number there (such as METRICS_PORT: "3000")',
    ],
    codes: ['invalid-value', 'invalid-value'],
  },
  {
    name: 'a PM2 ecosystem shape: apps is services',
    file: 'tend.yaml',
    text: [
      'apps:',
      '  web:',
      '    command: node server.js',
    ],
    expected: [
      'tend.yaml:1:1: unknown key "apps" (did you mean "services"?)\n  hint: apps is PM2\'s name for tend\'s services',
    ],
    codes: ['unknown-key'],
  },
  {
    name: 'schedule: a bad cron expression, an unknown time zone',
    file: 'tend.yaml',
    text: [
      'services:',
      '  backup:',
      '    command: backup.sh',
      '    schedule: "61 * * * *"',
      '  report:',
      '    command: report.sh',
      '    schedule: { cron: "0 3 * * *", timezone: "Mars/Olympus" }',
    ],
    expected: [
      'tend.yaml:4:15: services.backup.schedule: bad cron expression "61 * * * *": invalid value for minute: 61',
      'tend.yaml:7:46: services.report.schedule.timezone: unknown time zone "Mars/Olympus" (an IANA name such as "Europe/Berlin" or "UTC")',
    ],
    codes: ['invalid-schedule', 'invalid-schedule'],
  },
  {
    name: 'readiness: two kinds of check, and a tcp address that is not one',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    readiness: { tcp: 3000, http: "http://127.0.0.1:3000/" }',
      '  db:',
      '    command: postgres',
      '    readiness: { tcp: "localhost:x" }',
    ],
    expected: [
      'tend.yaml:4:16: services.web.readiness: a probe has one of tcp, http, exec, log or fd, not tcp and http',
      'tend.yaml:7:23: services.db.readiness.tcp: expected HOST:PORT or PORT, got "localhost:x"',
    ],
    codes: ['invalid-probe', 'invalid-probe'],
  },
  {
    name: 'depends_on: an unknown name (with did-you-mean), and a cycle printed whole',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    depends_on: [dbb, api]',
      '  api:',
      '    command: node api.js',
      '    depends_on:',
      '      cache: { condition: started }',
      '  cache:',
      '    command: redis-server',
      '    depends_on: [api]',
      '  db:',
      '    command: postgres',
    ],
    expected: [
      'tend.yaml:4:18: services.web.depends_on[0]: there is no service named "dbb" (did you mean "db"?)',
      'tend.yaml:8:14: services.api.depends_on.cache: dependency cycle: api → cache → api',
    ],
    codes: ['unknown-dependency', 'dependency-cycle'],
  },
  {
    name: 'depends_on: a service that depends on itself',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '    depends_on: [web]',
    ],
    expected: [
      'tend.yaml:4:18: services.web.depends_on[0]: web depends on itself',
    ],
    codes: ['dependency-cycle'],
  },
  {
    name: 'depends_on: an unknown condition',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: node server.js',
      '  job:',
      '    command: node job.js',
      '    depends_on: { web: { condition: healthy } }',
    ],
    expected: [
      'tend.yaml:6:37: services.job.depends_on.web.condition: expected started, ready or completed, got "healthy"',
    ],
    codes: ['invalid-value'],
  },
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
    codes: ['unknown-key'],
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
      'tend.yaml:4:1: unknown key "colour"\n  hint: allowed here: version, log_dir, services, api, notify',
    ],
    codes: ['unknown-key'],
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
    codes: ['unknown-key'],
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
    codes: ['unknown-key'],
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
    codes: ['unknown-key'],
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
    codes: ['unknown-key'],
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
    codes: ['invalid-value'],
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
    codes: ['invalid-value'],
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
    codes: ['invalid-value'],
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
      'tend.yaml:4:16: services.web.instances: expected an integer from 0 to 1000, got "two"',
    ],
    codes: ['invalid-type'],
  },
  {
    name: 'a billion instances',
    file: 'tend.yaml',
    text: ['services:', '  web:', '    command: node server.js', '    instances: 1000000000'],
    expected: ['tend.yaml:4:16: services.web.instances: expected an integer from 0 to 1000, got 1000000000'],
    codes: ['invalid-value'],
  },
  {
    name: 'a stop timeout past what a timer holds',
    file: 'tend.yaml',
    text: ['services:', '  web:', '    command: node server.js', '    stop: { timeout: 600h }'],
    expected: ['tend.yaml:4:22: services.web.stop.timeout: expected a duration of at most 24h, got "600h"'],
    codes: ['invalid-duration'],
  },
  {
    name: 'more than 10,000 processes in all',
    file: 'tend.yaml',
    text: ['services:', ...Array.from({ length: 11 }, (_, i) => [`  s${i}:`, '    command: node server.js', '    instances: 1000']).flat()],
    expected: ['tend.yaml:2:3: services: these services run 11000 processes in all; tend runs at most 10000'],
    codes: ['too-many'],
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
      'tend.yaml:4:16: services.web.instances: expected an integer from 0 to 1000, got -1',
    ],
    codes: ['invalid-value'],
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
      'tend.yaml:4:16: services.web.instances: expected an integer from 0 to 1000, got 1.5',
    ],
    codes: ['invalid-type'],
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
      'tend.yaml:5:14: services.web.start_limit.burst: expected an integer from 1 to 1000000, got 0',
    ],
    codes: ['invalid-value'],
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
    codes: ['invalid-duration'],
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
    codes: ['invalid-duration'],
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
    codes: ['invalid-duration'],
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
    codes: ['invalid-size'],
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
    codes: ['invalid-size'],
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
    codes: ['invalid-signal'],
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
    codes: ['invalid-signal'],
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
    codes: ['empty-command'],
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
    codes: ['empty-command'],
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
    codes: ['empty-command'],
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
    codes: ['empty-command'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-type'],
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
    codes: ['missing-key'],
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
    codes: ['invalid-type'],
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
    codes: ['duplicate-key'],
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
    codes: ['duplicate-key'],
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
    codes: ['duplicate-key'],
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
    codes: ['duplicate-key'],
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
    codes: ['undefined-variable'],
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
    codes: ['invalid-interpolation'],
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
    codes: ['invalid-interpolation'],
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
    codes: ['env-file'],
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
    codes: ['env-file'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-type'],
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
    codes: ['syntax'],
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
    ],
    codes: ['syntax'],
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
    codes: ['syntax'],
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
    codes: ['syntax'],
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
    codes: ['syntax'],
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
    codes: ['syntax'],
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
    codes: ['syntax'],
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
    codes: ['missing-key'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-type'],
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
    codes: ['invalid-name'],
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
    codes: ['invalid-name'],
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
    codes: ['invalid-value'],
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
    codes: ['invalid-value'],
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
    codes: ['log-file-conflict'],
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
      'tend.yaml:5:16: services.web.instances: expected an integer from 0 to 1000, got -2',
      'tend.yaml:7:14: services.worker.command: the command is empty',
      'tend.yaml:8:22: services.worker.stop.timeout: expected a duration like 250ms, 10s, 5m or 1h, got "soon"',
      'tend.yaml:11:25: services.db.backoff: unknown key "intial" (did you mean "initial"?)',
      'tend.yaml:12:1: unknown key "logdir" (did you mean "log_dir"?)',
    ],
    codes: ['unknown-key', 'invalid-value', 'invalid-value', 'empty-command', 'invalid-duration', 'unknown-key', 'unknown-key'],
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
    codes: ['invalid-type', 'unknown-key', 'invalid-value', 'invalid-duration', 'invalid-type', 'invalid-signal'],
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
      'tend.json:5:20: services.web.instances: expected an integer from 0 to 1000, got "2"',
      'tend.json:6:49: services.web.stop.timeout: expected a duration like 250ms, 10s, 5m or 1h, got 10 (add a unit: "10s" or "10ms")',
      'tend.json:8:5: services: bad service name "Bad Name": use letters, digits, - and _, starting with a letter or digit',
      'tend.json:10:3: unknown key "extra"\n  hint: allowed here: version, log_dir, services, api, notify',
    ],
    codes: ['invalid-type', 'invalid-duration', 'invalid-name', 'unknown-key'],
  },
  {
    name: 'unquoted ${VAR} in a YAML flow map',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env: { PORT: ${PORT} }',
    ],
    expected: [
      'tend.yaml:4:19: syntax error: unexpected flow-map-start at node end\n  hint: inside [ ] or { }, quote a value that holds ${...}: "${VAR}"',
    ],
    codes: ['syntax'],
  },
  {
    name: 'bad env variable name',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    env: { "A=B": x }',
    ],
    expected: [
      'tend.yaml:4:12: services.web.env: bad variable name "A=B": a name must not be empty or hold "="',
    ],
    codes: ['invalid-name'],
  },
  {
    name: 'duplicate key in a TOML table',
    file: 'tend.toml',
    text: [
      '[services.web]',
      'command = "a"',
      'restart = "always"',
      'restart = "never"',
    ],
    expected: [
      'tend.toml:4:1: services.web: duplicate key "restart" (first defined on line 3)',
    ],
    codes: ['duplicate-key'],
  },
  {
    name: 'backoff not a map',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    backoff: 5s',
    ],
    expected: [
      'tend.yaml:4:14: services.web.backoff: expected a map with initial, max and reset_after, got "5s"',
    ],
    codes: ['invalid-type'],
  },
  {
    name: 'negative logs.keep',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    logs: { keep: -1 }',
    ],
    expected: [
      'tend.yaml:4:19: services.web.logs.keep: expected an integer from 0 to 1000, got -1',
    ],
    codes: ['invalid-value'],
  },
  {
    name: 'TOML table over a value',
    file: 'tend.toml',
    text: [
      'services = 1',
      '[services.web]',
      'command = "x"',
    ],
    expected: [
      'tend.toml:2:2: syntax error: trying to redefine an already defined table or value',
    ],
    codes: ['syntax'],
  },
  {
    name: 'max_memory that is not a size',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    max_memory: 512 megs',
    ],
    expected: [
      'tend.yaml:4:17: services.web.max_memory: expected a size like 512K, 10M or 1G, got "512 megs"',
    ],
    codes: ['invalid-size'],
  },
  {
    name: 'max_memory of 0',
    file: 'tend.yaml',
    text: [
      'services:',
      '  web:',
      '    command: x',
      '    max_memory: 0',
    ],
    expected: [
      'tend.yaml:4:17: services.web.max_memory: expected a size greater than 0, got 0',
    ],
    codes: ['invalid-size'],
  },
  {
    name: 'api listening on every interface without allow_remote',
    file: 'tend.yaml',
    text: [
      'api:',
      '  listen: 0.0.0.0:80',
      'services: {}',
    ],
    expected: [
      'tend.yaml:2:11: api.listen: binding 0.0.0.0 exposes the control API to the network; set api.allow_remote: true if you mean it',
    ],
    codes: ['remote-api'],
  },
  {
    name: 'api listening on IPv6 any without allow_remote (TOML)',
    file: 'tend.toml',
    text: [
      '[api]',
      'listen = "[::]:7070"',
      'allow_remote = false',
      '[services]',
    ],
    expected: [
      'tend.toml:2:10: api.listen: binding [::] exposes the control API to the network; set api.allow_remote: true if you mean it',
    ],
    codes: ['remote-api'],
  },
  {
    name: 'api port out of range',
    file: 'tend.yaml',
    text: [
      'api: { listen: 70000 }',
      'services: {}',
    ],
    expected: [
      'tend.yaml:1:16: api.listen: expected a port from 0 to 65535, got 70000',
    ],
    codes: ['invalid-listen'],
  },
  {
    name: 'api port out of range after a host',
    file: 'tend.json',
    text: [
      '{ "api": { "listen": "localhost:70000" }, "services": {} }',
    ],
    expected: [
      'tend.json:1:22: api.listen: expected a port from 0 to 65535, got 70000',
    ],
    codes: ['invalid-listen'],
  },
  {
    name: 'api IPv6 address without brackets',
    file: 'tend.yaml',
    text: [
      'api: { listen: "::1:7070" }',
      'services: {}',
    ],
    expected: [
      'tend.yaml:1:16: api.listen: expected an IPv6 address in brackets, as in "[::1]:7070", got "::1:7070"',
    ],
    codes: ['invalid-listen'],
  },
  {
    name: 'api listen that is no address',
    file: 'tend.yaml',
    text: [
      'api: { listen: "http://localhost:7070" }',
      'services: {}',
    ],
    expected: [
      'tend.yaml:1:16: api.listen: expected PORT, HOST:PORT or [IPv6]:PORT (such as 7070 or 127.0.0.1:7070), got "http://localhost:7070"',
    ],
    codes: ['invalid-listen'],
  },
  {
    name: 'api listen from an unset variable is reported once',
    file: 'tend.yaml',
    text: [
      'api: { listen: "${TEND_TEST_PORT}" }',
      'services: {}',
    ],
    expected: [
      'tend.yaml:1:16: api.listen: ${TEND_TEST_PORT} is not set\n  hint: set TEND_TEST_PORT in the environment tend runs in, or give a default: ${TEND_TEST_PORT:-value}',
    ],
    codes: ['undefined-variable'],
  },
  {
    name: 'unknown key in api with did-you-mean',
    file: 'tend.yaml',
    text: [
      'api:',
      '  listen: 7070',
      '  allow_remot: true',
      'services: {}',
    ],
    expected: [
      'tend.yaml:3:3: api: unknown key "allow_remot" (did you mean "allow_remote"?)',
    ],
    codes: ['unknown-key'],
  },
  {
    name: 'api without listen, allow_remote not a boolean',
    file: 'tend.yaml',
    text: [
      'api:',
      '  allow_remote: yes',
      'services: {}',
    ],
    expected: [
      'tend.yaml:1:1: api: missing required key "listen"',
      'tend.yaml:2:17: api.allow_remote: expected true or false, got "yes"',
    ],
    codes: ['missing-key', 'invalid-type'],
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
    assert.deepEqual(
      result.diagnostics.map((d) => formatDiagnostic(d, { cwd: dir })),
      row.expected,
    );
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      row.codes,
    );
  });
}
