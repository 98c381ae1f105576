import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeValue, didYouMean, editDistance, formatPath, listOr } from './phrasing.js';

test('editDistance counts an adjacent transposition as one edit', () => {
  const table: [string, string, number][] = [
    ['', '', 0],
    ['a', '', 1],
    ['command', 'command', 0],
    ['comand', 'command', 1],
    ['restrat', 'restart', 1],
    ['allways', 'always', 1],
    ['kitten', 'sitting', 3],
    ['ab', 'ba', 1],
  ];
  for (const [a, b, expected] of table) assert.equal(editDistance(a, b), expected, `${a} / ${b}`);
});

test('didYouMean suggests only close matches', () => {
  const keys = ['command', 'cwd', 'env', 'env_file', 'instances', 'restart', 'backoff', 'start_limit', 'stop', 'logs'];
  const table: [string, string | undefined][] = [
    ['comand', 'command'],
    ['Command', 'command'],
    ['restrat', 'restart'],
    ['envfile', 'env_file'],
    ['instance', 'instances'],
    ['startlimit', 'start_limit'],
    ['colour', undefined],
    ['x', undefined],
    ['timeout', undefined],
  ];
  for (const [input, expected] of table) assert.equal(didYouMean(input, keys), expected, input);
  assert.equal(didYouMean('allways', ['always', 'on-failure', 'never']), 'always');
  assert.equal(didYouMean('on_failure', ['always', 'on-failure', 'never']), 'on-failure');
});

test('formatPath, describeValue, listOr', () => {
  assert.equal(formatPath(['services', 'web', 'command', 0]), 'services.web.command[0]');
  assert.equal(formatPath(['services', 'my web']), 'services["my web"]');
  assert.equal(formatPath([]), '');
  const values: [unknown, string][] = [
    ['two', '"two"'],
    [-1, '-1'],
    [true, 'true'],
    [null, 'an empty value'],
    [undefined, 'nothing'],
    [[1], 'a list'],
    [{}, 'a map'],
  ];
  for (const [input, expected] of values) assert.equal(describeValue(input), expected);
  assert.equal(listOr(['always', 'on-failure', 'never']), 'always, on-failure or never');
  assert.equal(listOr(['1']), '1');
});
