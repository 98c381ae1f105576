// Unit tests for the /proc readers: the stat parser on hostile comm names, and a live read of
// this very process (no child processes are spawned here).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAlive, liveGroups, pageSize, parseStat, readStat, sampleGroups } from './proc.js';

// Field layout of /proc/PID/stat (fields 3..24 after comm); values chosen to be recognisable.
const rest = 'S 1 4242 4242 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 987654 12345678 321';

test('parseStat takes the fields after the LAST ")" so odd comm names cannot shift them', () => {
  for (const comm of ['node', 'a b', 'x) S 9 9 9 (', '))', '(']) {
    assert.deepEqual(parseStat(`123 (${comm}) ${rest}`), {
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      session: 4242,
      startTime: 987654,
      cpuTicks: 12,
      rssPages: 321,
    });
  }
});

test('parseStat rejects text that is not a stat line', () => {
  assert.equal(parseStat(''), null);
  assert.equal(parseStat('123 node S 1'), null);
  assert.equal(parseStat('123 (node) S x y'), null);
});

test('this process reads as alive, with its own group, and sampling finds it', () => {
  const self = readStat(process.pid);
  assert.ok(self !== null);
  assert.ok(isAlive(process.pid, self.startTime));
  assert.equal(isAlive(process.pid, self.startTime + 1), false, 'another start time is another process');
  assert.ok(liveGroups(new Set([self.pgrp])).has(self.pgrp));
  const sample = sampleGroups(new Set([self.pgrp])).get(self.pgrp);
  assert.ok(sample !== undefined);
  assert.ok(sample.members >= 1 && sample.rssBytes > 0);
  assert.ok(pageSize() >= 4096);
});
