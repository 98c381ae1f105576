import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostCall } from '../host/keeper-protocol.js';
import { createCallQueue } from './call-queue.js';

const call = (unit: string): HostCall => ({ op: 'signal-group', unit, signal: 'SIGHUP' });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('call queue: calls run in order, never in the turn that pushed them, and slices yield to the event loop', async () => {
  const seen: string[] = [];
  const queue = createCallQueue((c) => {
    if (c.op !== 'signal-group') return;
    seen.push(c.unit);
    const until = performance.now() + 4; // a slow spawn
    while (performance.now() < until);
  });
  queue.push(['a', 'b', 'c', 'd', 'e', 'f'].map(call));
  queue.push([call('g')]);
  assert.deepEqual(seen, [], 'nothing runs synchronously');
  await turn();
  assert.ok(seen.length >= 1 && seen.length < 7, `one slice of ~10 ms, not all seven (ran ${seen.length})`);
  while (queue.size > 0) await turn();
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
});

test('call queue: clear() drops what is not yet done and says how much', async () => {
  const seen: string[] = [];
  const queue = createCallQueue((c) => void (c.op === 'signal-group' && seen.push(c.unit)));
  queue.push([call('a'), call('b')]);
  assert.equal(queue.clear(), 2);
  await turn();
  assert.deepEqual(seen, []);
});
