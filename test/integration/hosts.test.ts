// Runs the ProcessHost contract against both hosts — the data plane in this process (with and
// without cgroups) and the keeper's, through an in-memory link — plus what is local-only.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, test } from 'node:test';
import { openCgroups } from '../../src/host/cgroup.js';
import { createDataPlane } from '../../src/host/data-plane.js';
import type { HostListener, ProcessHost } from '../../src/host/host.js';
import { createKeeperHost } from '../../src/host/keeper-host.js';
import type { EngineToKeeper, KeeperToEngine } from '../../src/host/keeper-protocol.js';
import { createLocalProcesses } from '../../src/host/local-processes.js';
import { createRelay } from '../../src/keeper/relay.js';
import { isAlive, readStat } from '../../src/host/proc.js';
import { inheritedEnv, nodeFixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup } from '../helpers/leak-guard.js';
import { RecordingListener } from '../helpers/recording-listener.js';
import { runHostContract } from './host.contract.js';

const warn = (text: string) => assert.fail(`unexpected warning: ${text}`);
runHostContract('data plane', (listener) => createDataPlane(listener, { warn }));

/**
 * The engine's side (keeper-host.ts) and the keeper's (relay.ts) joined in memory, each message
 * delivered on a later turn as IPC would; calls are committed once per turn, as the engine does.
 */
function keeperHostInMemory(listener: HostListener): ProcessHost {
  let host: ReturnType<ReturnType<typeof createKeeperHost>> | null = null;
  const relay = createRelay({ log: warn, send: (message: KeeperToEngine) => setImmediate(() => host?.receive(message)) });
  host = createKeeperHost(
    {
      send: (raw) =>
        setImmediate(() => {
          const message = raw as EngineToKeeper;
          if (message.type === 'commit') return relay.commit(message);
          if (message.type === 'stats') void relay.plane.logStats().then((logs) => host?.receive({ type: 'stats', id: message.id, logs }));
        }),
    },
    [],
  )(listener);
  const inner = host;
  let queued = false;
  const commitSoon = () => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      inner.commit({});
    });
  };
  return {
    spawn: (spec) => (inner.spawn(spec), commitSoon()),
    stopGroup: (unit, options) => (inner.stopGroup(unit, options), commitSoon()),
    signalGroup: (unit, signal) => {
      const sent = inner.signalGroup(unit, signal);
      commitSoon();
      return sent;
    },
    killAll: () => inner.killAll(),
    liveUnits: () => inner.liveUnits(),
    commit: (state) => inner.commit(state),
    close: () => relay.close(),
    logStats: () => inner.logStats(),
  };
}
runHostContract('keeper (in memory)', keeperHostInMemory, {
  // The engine's side learns that a group emptied from events only: after a kill-all (an engine's
  // last act, in an emergency) a unit whose leader died before its grandchild stays "live" there.
  'killAll kills every group, grandchildren that ignore SIGTERM included': 'liveUnits after a kill-all is known to the keeper only',
});

test('local: spawning a unit again while it runs is a bug, refused before anything starts', async (t) => {
  const rec = new RecordingListener();
  const host = createLocalProcesses(rec);
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
  runHostContract('data plane with cgroups', (listener) => createDataPlane(listener, { cgroups: cgroupTree, warn }));
}

test('local with cgroups: a process that left its process group (setsid) is stopped too, and "stopped" means the cgroup is empty', {
  skip: noCgroups,
}, async (t) => {
  const rec = new RecordingListener();
  const host = createLocalProcesses(rec, { cgroups: cgroupTree });
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
