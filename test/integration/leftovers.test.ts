// What a dead spawner left behind is found through its PID journal and ended — including a
// child whose PID was never written (the spawner died inside spawn()), and never a process
// that merely looks like one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createLocalProcesses } from '../../src/host/local-processes.js';
import { isAlive, readStat } from '../../src/host/proc.js';
import { bootTicks } from '../../src/runtime/boot-ticks.js';
import { endLeftovers, findLeftovers } from '../../src/runtime/leftovers.js';
import { createStateJournal, readState } from '../../src/runtime/state-file.js';
import { inheritedEnv, nodeFixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup } from '../helpers/leak-guard.js';
import { RecordingListener } from '../helpers/recording-listener.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-leftovers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A session leader as tend spawns one (detached), with the environment tend gives a unit. */
async function orphanLike(t: TestContext, cwd: string, env: Record<string, string>): Promise<number> {
  const child = spawn(nodeFixture('forever.mjs')[0] ?? '', nodeFixture('forever.mjs').slice(1), {
    cwd,
    env: { ...inheritedEnv(), ...env },
    detached: true,
    stdio: 'ignore',
  });
  const pid = child.pid ?? 0;
  trackGroup(pid);
  t.after(() => endGroup(pid));
  child.unref();
  await new Promise((resolve) => child.once('spawn', resolve));
  return pid;
}

const holder = { pid: 1, startTime: 1 };

test("an intent is matched to the session leader started after it, with the unit's service, instance and cwd — and to nothing else", async (t) => {
  const dir = tempDir(t);
  const before = await orphanLike(t, dir, { TEND_SERVICE: 'web', TEND_INSTANCE: '0' }); // started before the intent
  const since = bootTicks() + 2;
  await new Promise((resolve) => setTimeout(resolve, 40)); // > 2 clock ticks
  const orphan = await orphanLike(t, dir, { TEND_SERVICE: 'web', TEND_INSTANCE: '0' });
  await orphanLike(t, dir, { TEND_SERVICE: 'web', TEND_INSTANCE: '1' }); // another instance
  await orphanLike(t, os.tmpdir(), { TEND_SERVICE: 'web', TEND_INSTANCE: '0' }); // elsewhere
  const found = findLeftovers({ holder, units: { 'web.0': { spawning: { since, cwd: dir } } } });
  assert.deepEqual(found, [{ unit: 'web.0', pid: orphan }]);
  assert.ok(isAlive(before));
  // Started more than 5 s after the intent: a later spawner's child (a new keeper's), not the dead one's.
  const stale = findLeftovers({ holder, units: { 'web.0': { spawning: { since: since - 1000, cwd: dir } } } });
  assert.deepEqual(stale, []);
});

test("a recorded leader counts only with its start time; a gone leader's group counts while its members live", async (t) => {
  const dir = tempDir(t);
  const leader = await orphanLike(t, dir, {});
  const startTime = readStat(leader)?.startTime ?? 0;
  assert.deepEqual(findLeftovers({ holder, units: { 'web.0': { pid: leader, startTime } } }), [{ unit: 'web.0', pid: leader }]);
  assert.deepEqual(
    findLeftovers({ holder, units: { 'web.0': { pid: leader, startTime: startTime - 1 } } }),
    [],
    'another start time: a recycled PID',
  );
  // A grandchild keeps the group after its leader died.
  const member = spawn('/bin/sh', ['-c', 'sleep 300 & echo $!; exit 0'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const pgid = member.pid ?? 0;
  trackGroup(pgid);
  t.after(() => endGroup(pgid));
  const groupStart = readStat(pgid)?.startTime ?? 0;
  const exited = new Promise((resolve) => member.once('exit', resolve));
  const grandchild = Number((await new Promise<Buffer>((resolve) => member.stdout.once('data', resolve))).toString());
  await exited;
  assert.deepEqual(findLeftovers({ holder, units: { 'job.0': { pid: pgid, startTime: groupStart } } }), [{ unit: 'job.0', pid: pgid }]);
  const ended = await endLeftovers({ holder, units: { 'job.0': { pid: pgid, startTime: groupStart } } });
  assert.equal(ended.length, 1);
  assert.equal(isAlive(grandchild), false);
});

test('the local host writes every spawn ahead: intent, PID, then nothing once the group is gone', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'state.json');
  const journal = createStateJournal(file, holder);
  const rec = new RecordingListener();
  const host = createLocalProcesses(rec, { journal });
  host.spawn({ unit: 'web.0', argv: nodeFixture('forever.mjs'), cwd: dir, env: inheritedEnv() });
  const { pid } = await rec.waitForEvent('web.0', 'spawned');
  trackGroup(pid);
  t.after(() => endGroup(pid));
  await new Promise((resolve) => setImmediate(resolve)); // the PID line rides with the next write, or this turn's end
  const recorded = readState(file)?.units['web.0'] as { pid: number; startTime: number; until: number };
  const started = readStat(pid)?.startTime ?? -1;
  assert.equal(recorded.pid, pid);
  assert.ok(
    started >= recorded.startTime && started <= recorded.until,
    `start time ${started} in [${recorded.startTime}, ${recorded.until}]`,
  );
  assert.deepEqual(findLeftovers({ holder, units: { 'web.0': recorded } }), [{ unit: 'web.0', pid }], 'found by the window');
  host.stopGroup('web.0', { signal: 'SIGTERM', timeoutMs: 5000 });
  await rec.waitForEvent('web.0', 'group-gone');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(readState(file)?.units, {});
  host.spawn({ unit: 'bad.0', argv: ['/no/such/program'], cwd: dir, env: inheritedEnv() });
  await rec.waitForEvent('bad.0', 'spawn-failed');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(readState(file)?.units, {}, 'a failed spawn leaves no intent behind');
  journal.close();
});
