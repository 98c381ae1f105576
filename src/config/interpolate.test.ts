import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolate, interpolateConfig, shellCommand } from './interpolate.js';

const env = { HOST: 'db.local', EMPTY: '', PORT: '5432' };

test('interpolate expands ${VAR}, ${VAR:-default} and $$ as data', () => {
  const table: [string, string][] = [
    ['plain', 'plain'],
    ['${HOST}', 'db.local'],
    ['pg://${HOST}:${PORT}/app', 'pg://db.local:5432/app'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'db.local'],
    ['${MISSING:-}', ''],
    ['${EMPTY}', ''],
    ['${MISSING:-a b $ c}', 'a b $ c'],
    ['$$', '$'],
    ['$${HOST}', '${HOST}'],
    ['$HOME and $1 stay', '$HOME and $1 stay'],
    ['cost: 5$', 'cost: 5$'],
    ['$(rm -rf /) `x` ${HOST}', '$(rm -rf /) `x` db.local'],
  ];
  for (const [input, expected] of table) assert.deepEqual(interpolate(input, env), { ok: true, value: expected }, input);
});

test('interpolate reports every problem', () => {
  const table: [string, string[]][] = [
    ['${MISSING}', ['undefined-variable: ${MISSING} is not set']],
    ['${A} and ${B}', ['undefined-variable: ${A} is not set', 'undefined-variable: ${B} is not set']],
    ['${1}', ['invalid-interpolation: bad variable reference "${1}"']],
    ['${HOST:+x}', ['invalid-interpolation: bad variable reference "${HOST:+x}"']],
    ['${}', ['invalid-interpolation: bad variable reference "${}"']],
    ['${HOST', ['invalid-interpolation: "${" without a closing "}" in "${HOST"']],
  ];
  for (const [input, expected] of table) {
    const result = interpolate(input, env);
    assert.equal(result.ok, false, input);
    if (!result.ok)
      assert.deepEqual(
        result.issues.map((i) => `${i.code}: ${i.message}`),
        expected,
        input,
      );
  }
});

test('interpolateConfig touches only the templated settings, and copies', () => {
  const raw = {
    log_dir: '${HOST}/logs',
    services: {
      web: {
        command: ['run', '${HOST}'],
        cwd: '${HOST}',
        env: { A: '${PORT}', N: 3 },
        env_file: ['${HOST}.env'],
        logs: { file: '${HOST}.log', max_size: '${HOST}' },
        restart: '${HOST}',
      },
      '${HOST}': { command: 'echo ${HOST} $HOME' },
    },
  };
  const before = JSON.stringify(raw);
  const { value, problems } = interpolateConfig(raw, env);
  assert.deepEqual(problems, []);
  assert.equal(JSON.stringify(raw), before, 'the input changed');
  assert.deepEqual(value, {
    log_dir: 'db.local/logs',
    services: {
      web: {
        command: ['run', 'db.local'],
        cwd: 'db.local',
        env: { A: '5432', N: 3 },
        env_file: ['db.local.env'],
        logs: { file: 'db.local.log', max_size: '${HOST}' },
        restart: '${HOST}',
      },
      '${HOST}': { command: 'echo ${HOST} $HOME' }, // a string command is its shell's to expand
    },
  });
});

test('interpolateConfig names the path of each problem', () => {
  const { problems } = interpolateConfig({ services: { web: { command: ['x', '${NOPE}'], env: { A: '${ALSO_NOPE}' } } } }, {});
  assert.deepEqual(
    problems.map((p) => [p.path.join('.'), p.code]),
    [
      ['services.web.command.1', 'undefined-variable'],
      ['services.web.env.A', 'undefined-variable'],
    ],
  );
});

test('a string command keeps its references for the shell: values are never parsed as shell code', () => {
  // $$ is a $ for the shell, as it always was: "$$HOME" reaches it as "$HOME".
  assert.deepEqual(shellCommand('echo ${A} ${B:-x} $$HOME ${C}'), {
    text: 'echo ${A} ${B:-x} $HOME ${C}',
    references: [
      { name: 'A', hasDefault: false },
      { name: 'B', hasDefault: true },
      { name: 'C', hasDefault: false },
    ],
    issues: [],
  });
  assert.deepEqual(
    shellCommand('echo ${1}').issues.map((i) => i.code),
    ['invalid-interpolation'],
  );
});
