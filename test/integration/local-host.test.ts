// Runs the ProcessHost contract against the in-process host, plus what is local-only.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { createLocalHost } from '../../src/host/local.js';
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
