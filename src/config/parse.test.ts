import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatOf, parseConfigText, type Format } from './parse.js';
import type { PathSegment } from './phrasing.js';

// One config in three formats; each row: a path, and where its key and its value start.
const yaml = [
  'services:', // 1
  '  web:', // 2
  '    command: [node, server.js]', // 3
  '    backoff: { initial: 1s }', // 4
  '    env:', // 5
  '      PORT: "3000"', // 6
  '  "1":', // 7
  '    command: x', // 8
].join('\n');
const json = [
  '{',
  '  "services": {',
  '    "web": {',
  '      "command": ["node", "server.js"],',
  '      "backoff": { "initial": "1s" },',
  '      "env": {',
  '        "PORT": "3000"',
  '      }',
  '    },',
  '    "1": { "command": "x" }',
  '  }',
  '}',
].join('\n');
const toml = [
  '[services.web]',
  'command = ["node", "server.js"]  # argv',
  'backoff = { initial = "1s" }',
  'env.PORT = "3000"',
  '',
  "[services.'1']",
  'command = """x"""',
].join('\n');

type Row = [PathSegment[], string, string];
const cases: { format: Format; text: string; rows: Row[] }[] = [
  {
    format: 'yaml',
    text: yaml,
    rows: [
      [['services'], '1:1', '2:3'],
      [['services', 'web'], '2:3', '3:5'],
      [['services', 'web', 'command'], '3:5', '3:14'],
      [['services', 'web', 'command', 1], '3:21', '3:21'],
      [['services', 'web', 'backoff', 'initial'], '4:16', '4:25'],
      [['services', 'web', 'env', 'PORT'], '6:7', '6:13'],
      [['services', 'web', 'env', 'MISSING'], '5:5', '5:5'],
      [['services', 'web', 'nope', 'deeper'], '2:3', '2:3'],
      [['nothing'], '1:1', '1:1'],
    ],
  },
  {
    format: 'json',
    text: json,
    rows: [
      [['services', 'web', 'command'], '4:7', '4:18'],
      [['services', 'web', 'command', 1], '4:27', '4:27'],
      [['services', 'web', 'backoff', 'initial'], '5:20', '5:31'],
      [['services', 'web', 'env', 'PORT'], '7:9', '7:17'],
    ],
  },
  {
    format: 'toml',
    text: toml,
    rows: [
      [['services'], '1:2', '1:2'],
      [['services', 'web'], '1:11', '1:11'],
      [['services', 'web', 'command'], '2:1', '2:11'],
      [['services', 'web', 'command', 1], '2:20', '2:20'],
      [['services', 'web', 'backoff', 'initial'], '3:13', '3:23'],
      [['services', 'web', 'env', 'PORT'], '4:5', '4:12'],
      [['services', '1', 'command'], '7:1', '7:11'],
      [['services', 'web', 'nope'], '1:11', '1:11'],
    ],
  },
];

for (const { format, text, rows } of cases) {
  test(`parseConfigText (${format}): value, positions and key order`, () => {
    const parsed = parseConfigText({ text, file: `/p/tend.${format}`, format });
    assert.equal(parsed.syntaxOk, true);
    assert.deepEqual(parsed.diagnostics, []);
    // smol-toml builds null-prototype objects; compare the data, not the prototypes.
    assert.deepEqual(JSON.parse(JSON.stringify(parsed.value)), {
      services: { web: { command: ['node', 'server.js'], backoff: { initial: '1s' }, env: { PORT: '3000' } }, 1: { command: 'x' } },
    });
    // A JS object lists "1" first; the file lists web first.
    assert.deepEqual(parsed.source.keysOf(['services']), ['web', '1']);
    for (const [path, key, value] of rows) {
      const show = (p: { line: number; column: number }) => `${p.line}:${p.column}`;
      assert.equal(show(parsed.source.locate(path, 'key')), key, `key of ${path.join('.')}`);
      assert.equal(show(parsed.source.locate(path, 'value')), value, `value of ${path.join('.')}`);
    }
  });
}

test('formatOf goes by extension; unknown ones are YAML', () => {
  const table: [string, Format][] = [
    ['tend.yaml', 'yaml'],
    ['tend.yml', 'yaml'],
    ['x.JSON', 'json'],
    ['tend.toml', 'toml'],
    ['tend.conf', 'yaml'],
  ];
  for (const [file, format] of table) assert.equal(formatOf(file), format, file);
});

test('YAML 1.2: yes/no/on/off stay strings, anchors and merge keys work', () => {
  const text = ['base: &base', '  restart: always', 'services:', '  web:', '    <<: *base', '    command: on'].join('\n');
  const parsed = parseConfigText({ text, file: '/p/tend.yaml', format: 'yaml' });
  assert.deepEqual(parsed.value, { base: { restart: 'always' }, services: { web: { restart: 'always', command: 'on' } } });
});
