import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHeartbeat, judge, PING_MS, type Observation, type Verdict } from './heartbeat.js';

// silent ms, engine CPU ms since its last answer (null: no /proc), has answered → verdict.
const table: Array<[Observation, Verdict, string]> = [
  [{ silentMs: 4_000, cpuMs: 4_000, answered: true }, 'alive', 'under 5 s of silence nothing is judged'],
  [{ silentMs: 5_000, cpuMs: 2_000, answered: true }, 'hung', 'silent and spinning: 2 s of CPU without one turn of its loop'],
  [{ silentMs: 30_000, cpuMs: 300, answered: true }, 'alive', 'silent but hardly ran: starved, not hung'],
  [{ silentMs: 59_000, cpuMs: 0, answered: true }, 'alive', 'starved for most of a minute is still starved'],
  [{ silentMs: 60_000, cpuMs: 0, answered: true }, 'hung', 'a minute without a turn: blocked or stopped'],
  [{ silentMs: 5_000, cpuMs: null, answered: true }, 'alive', 'without /proc, silence alone decides, and late'],
  [{ silentMs: 60_000, cpuMs: null, answered: true }, 'hung', 'without /proc, a minute of silence'],
  [{ silentMs: 6_000, cpuMs: 3_000, answered: false }, 'alive', 'booting (loading code and config) gets 10 s of CPU'],
  [{ silentMs: 6_000, cpuMs: 10_000, answered: false }, 'hung', 'a boot that spins 10 s is hung'],
  [{ silentMs: 100_000, cpuMs: 0, answered: false }, 'alive', 'a starved boot gets 2 minutes'],
  [{ silentMs: 120_000, cpuMs: 0, answered: false }, 'hung', 'a boot silent for 2 minutes is hung'],
];

for (const [observation, verdict, why] of table) {
  test(`heartbeat: ${why} → ${verdict}`, () => assert.equal(judge(observation), verdict));
}

test('heartbeat: a late tick (the keeper itself was starved) counts as two intervals at most', () => {
  let now = 0;
  let cpu = 0;
  const beat = createHeartbeat(
    () => cpu,
    () => now,
  );
  beat.answer();
  now += 60_000; // the keeper slept through a minute
  cpu += 5_000;
  assert.equal(beat.tick(), 'alive', `silence counted ${2 * PING_MS} ms, not 60 s`);
  now += PING_MS;
  assert.equal(beat.tick(), 'hung', 'three intervals of silence while spinning');
  beat.answer();
  now += PING_MS;
  assert.equal(beat.tick(), 'alive', 'an answer starts the count again');
});
