// The everyday CLI (issue 11) against the real bin: `-f FILE` before any verb, help and
// did-you-mean for verbs, services and signals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { spawnTend } from '../helpers/spawn-tend.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

test('-f FILE before the verb works for every verb; -f after logs is follow', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  worker:\n    command: ${argv('tick.mjs', '50')}\n`,
  });
  const file = path.join(d.dir, 'tend.yaml');
  assert.equal((await d.tend(['-f', file, 'up', '-d'])).code, 0);
  const logs = await d.tend(['-f', file, 'logs', '-n', '1']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^worker \| /m);
  const events = await d.tend(['--file', file, 'events', '-n', '1']);
  assert.equal(events.code, 0, events.stderr);
  const ps = await d.tend(['-f', file, 'ps']);
  assert.match(ps.stdout, /^worker\s+running/m);
  // Follow: -f after the verb, the file given before it.
  const follow = spawnTend(t, ['-f', file, 'logs', '-f', '-n', '0'], { cwd: d.dir, env: d.env });
  await follow.waitForOutput(/worker \| tick \d+/);
  follow.child.kill('SIGINT');
  await follow.exited;
});

test('help, and did-you-mean for verbs, services and signals', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  worker:\n    command: ${argv('forever.mjs')}\n  web:\n    command: ${argv('forever.mjs')}\n`,
  });
  const help = await d.tend(['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: tend \[-f FILE\] COMMAND/m);
  const helpLogs = await d.tend(['help', 'logs']);
  assert.equal(helpLogs.code, 0);
  assert.match(helpLogs.stdout, /^Usage: tend logs/);
  const typo = await d.tend(['stpo', 'web']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, 'tend: unknown command "stpo"\n  hint: did you mean `tend stop`?\n');
  const nothing = await d.tend(['frobnicate']);
  assert.match(nothing.stderr, /hint: run `tend help` for the list of commands/);
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const service = await d.tend(['restart', 'wrker']);
  assert.equal(service.code, 1);
  assert.equal(service.stderr, 'tend: there is no service named "wrker" in the config\n  hint: did you mean "worker"?\n');
  const unknown = await d.tend(['stop', 'database']);
  assert.match(unknown.stderr, /hint: its services: worker, web\n$/);
  const signal = await d.tend(['signal', 'web', 'SIGHPU']);
  assert.equal(signal.code, 2);
  assert.match(signal.stderr, /^tend: unknown signal "SIGHPU"\n {2}hint: did you mean HUP\? signals: .*\bTERM\b/);
});
