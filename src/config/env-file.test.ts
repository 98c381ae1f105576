import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvFile } from './env-file.js';

test('parseEnvFile reads KEY=VALUE lines without any shell expansion', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=value',
    'SPACED = some value  ',
    'export EXPORTED=yes',
    'EMPTY=',
    'COMMENTED=abc # trailing comment',
    'HASH=abc#def',
    "SINGLE='literal $HOME \\n # not a comment'",
    'DOUBLE="line\\nnext \\"quoted\\" \\\\ $HOME"',
    'MULTI="first',
    'second"',
    'EQUALS=a=b=c',
    '  INDENTED=1',
    'PLAIN=overridden',
  ].join('\n');
  assert.deepEqual(parseEnvFile(text), {
    vars: {
      PLAIN: 'overridden',
      SPACED: 'some value',
      EXPORTED: 'yes',
      EMPTY: '',
      COMMENTED: 'abc',
      HASH: 'abc#def',
      SINGLE: 'literal $HOME \\n # not a comment',
      DOUBLE: 'line\nnext "quoted" \\ $HOME',
      MULTI: 'first\nsecond',
      EQUALS: 'a=b=c',
      INDENTED: '1',
    },
    problems: [],
  });
});

test('parseEnvFile handles CRLF and a BOM', () => {
  assert.deepEqual(parseEnvFile('\uFEFFA=1\r\nB="2"\r\n').vars, { A: '1', B: '2' });
});

test('parseEnvFile reports bad lines with positions and keeps going', () => {
  const table: [string, { line: number; column: number; message: string }[]][] = [
    ['A=1\nnot a pair\nB=2', [{ line: 2, column: 1, message: 'expected NAME=value, got "not a pair"' }]],
    ['1BAD=x', [{ line: 1, column: 1, message: 'bad variable name "1BAD"' }]],
    ['export =x', [{ line: 1, column: 8, message: 'bad variable name ""' }]],
    ['A="open\nB=2', [{ line: 1, column: 3, message: 'the double quote is never closed' }]],
    ["  A='open", [{ line: 1, column: 5, message: 'the single quote is never closed' }]],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseEnvFile(text).problems, expected, text);
});
