import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyExit, shouldRestart, type ExitCause } from './policy.js';

test('classifyExit tells clean from failed exits and signals', () => {
  const cases: Array<[number | null, string | null, ExitCause]> = [
    [0, null, 'clean-exit'],
    [1, null, 'failed-exit'],
    [137, null, 'failed-exit'],
    [null, 'SIGTERM', 'clean-signal'],
    [null, 'SIGINT', 'clean-signal'],
    [null, 'SIGHUP', 'clean-signal'],
    [null, 'SIGPIPE', 'clean-signal'],
    [null, 'SIGKILL', 'unclean-signal'],
    [null, 'SIGSEGV', 'unclean-signal'],
    [null, 'SIGABRT', 'unclean-signal'],
  ];
  for (const [code, signal, cause] of cases) assert.equal(classifyExit(code, signal), cause, `${code} ${signal}`);
});

// One row per cell of the table, written out so the spec is readable here too.
const cells: Array<[ExitCause, 'always' | 'on-failure' | 'never', boolean]> = [
  ['clean-exit', 'always', true],
  ['clean-exit', 'on-failure', false],
  ['clean-exit', 'never', false],
  ['failed-exit', 'always', true],
  ['failed-exit', 'on-failure', true],
  ['failed-exit', 'never', false],
  ['clean-signal', 'always', true],
  ['clean-signal', 'on-failure', false],
  ['clean-signal', 'never', false],
  ['unclean-signal', 'always', true],
  ['unclean-signal', 'on-failure', true],
  ['unclean-signal', 'never', false],
  ['spawn-failed', 'always', true],
  ['spawn-failed', 'on-failure', true],
  ['spawn-failed', 'never', false],
  ['memory', 'always', true],
  ['memory', 'on-failure', true],
  ['memory', 'never', false],
];
for (const [cause, policy, expected] of cells) {
  test(`restart ${policy} after ${cause}: ${expected ? 'restart' : 'stay down'}`, () => {
    assert.equal(shouldRestart(cause, policy), expected);
  });
}
