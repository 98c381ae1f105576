import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failuresAfterRun, nextDelay } from './backoff.js';
import { isStartLimitHit, startsInWindow } from './start-limit.js';

const spec = { initial: 100, max: 30_000, reset_after: 60_000 };

test('nextDelay doubles from initial and stops at max (no jitter draw)', () => {
  const delays = [1, 2, 3, 4, 5, 9, 10, 20, 2000].map((n) => nextDelay(spec, n, 0));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 25_600, 30_000, 30_000, 30_000]);
});

test('jitter takes at most 20% off and never adds', () => {
  assert.equal(nextDelay(spec, 1, 0.999999), 80);
  assert.equal(nextDelay(spec, 3, 0.5), 360);
  assert.equal(nextDelay(spec, 50, 0.5), 27_000);
});

test('initial 0 restarts at once, whatever the streak', () => {
  for (const n of [1, 2, 10, 100]) assert.equal(nextDelay({ ...spec, initial: 0 }, n, 0.7), 0);
});

test('a run of reset_after or longer resets the streak', () => {
  assert.equal(failuresAfterRun(spec, 5, 59_999), 6);
  assert.equal(failuresAfterRun(spec, 5, 60_000), 1);
  assert.equal(failuresAfterRun(spec, 0, 10), 1);
});

test('start limit counts starts inside the window only', () => {
  const limit = { burst: 3, interval: 10_000 };
  assert.deepEqual(startsInWindow(limit, [0, 5_000, 9_999, 12_000], 15_000), [9_999, 12_000]);
  assert.equal(isStartLimitHit(limit, [1, 2], 3), false);
  assert.equal(isStartLimitHit(limit, [1, 2, 3], 4), true);
  assert.equal(isStartLimitHit(limit, [1, 2, 3], 10_001), false, 'the first start left the window');
  assert.equal(isStartLimitHit(limit, [1, 2, 3], 10_000), true, 'all three are less than interval ago');
});
