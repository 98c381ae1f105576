// Runs the ProcessHost contract against the in-process host, plus what is local-only.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, test } from 'node:test';
import { openCgroups } from '../../src/host/cgroup.js';
import { createLocalHost } from '../../src/host/local.js';
import { isAlive, readStat } from '../../src/host/proc.js';
import { inheritedEnv, nodeFixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup } from '../helpers/leak-guard.js';
import { RecordingListener } from '../helpers/recording-listener.js';
import { runHostContract } from './host.contract.js';

runHostContract('local', (listener) => createLocalHost(listener));

test('local: spawning a unit again while it runs is a bug, refused before anything starts', async (t) => {
  const rec = new RecordingListener();
  const host = createLocalHost(rec);
  const spec = { unit: 'once', argv: nodeFixture('forever.mjs'), cwd: tmpdir(), env: inheritedEnv() };
  host.spawn(spec);
  const { pid } = await rec.waitForEvent('once', 'spawned');
  trackGroup(pid);
  t.after(() => endGroup(pid));
  assert.throws(() => host.spawn(spec), /still running or stopping/);
  assert.deepEqual(host.liveUnits(), ['once']);
});

// With a cgroup per unit (root, and a writable cgroup v2 hierarchy): the same contract, and the
// one thing process groups cannot do — stop a process that left its group.
const cgroupTree = process.geteuid?.() === 0 ? openCgroups(`tend-test-${process.pid}`) : null;
const noCgroups = cgroupTree === null ? 'no writable cgroup v2 hierarchy here (needs root, or a delegated cgroup)' : false;
if (cgroupTree !== null) {
  after(() => cgroupTree.remove());
  runHostContract('local with cgroups', (listener) => createLocalHost(listener, { cgroups: cgroupTree }));
}

test('local with cgroups: a process that left its process group (setsid) is stopped too, and "stopped" means the cgroup is empty', { skip: noCgroups }, async (t) => {
  const rec = new RecordingListener();
  const host = createLocalHost(rec, { cgroups: cgroupTree });
  host.spawn({ unit: 'daemon.0', argv: nodeFixture('escape.mjs'), cwd: tmpdir(), env: inheritedEnv() });
  const { pid } = await rec.waitForEvent('daemon.0', 'spawned');
  trackGroup(pid);
  const escaped = Number((await rec.waitForOutput('daemon.0', /escaped (\d+)/))[1]);
  trackGroup(escaped);
  t.after(() => endGroup(escaped));
  assert.notEqual(readStat(escaped)?.pgrp, pid, 'the grandchild left the group');
  host.stopGroup('daemon.0', { signal: 'SIGTERM', timeoutMs: 1000 });
  const gone = await rec.waitForEvent('daemon.0', 'group-gone');
  assert.equal(gone.forced, true, 'it ignored SIGTERM: killed with the cgroup');
  assert.equal(isAlive(escaped), false, 'the escaped grandchild is gone when the stop is answered');
});
