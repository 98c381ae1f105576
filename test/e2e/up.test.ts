// The real `tend up` in the foreground against a temp project: restarts by policy, exit
// codes and signals reported, tree stop, Ctrl-C leaves nothing, a second Ctrl-C kills at once,
// an internal error still takes the groups down, and `tend check`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isAlive } from '../../src/host/proc.js';
import { nodeFixture } from '../helpers/fixtures.js';
import '../helpers/leak-guard.js';
import { runTend, spawnTend } from '../helpers/spawn-tend.js';
import { tmpProject } from '../helpers/tmp-project.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const fast = 'backoff: { initial: 0ms }';

function project(t: Parameters<typeof tmpProject>[0], yaml: string): string {
  return tmpProject(t, { 'tend.yaml': yaml });
}

async function allGone(pids: readonly number[]): Promise<void> {
  await waitFor(() => pids.every((pid) => !isAlive(pid)), { what: `pids ${pids.join(', ')} to be gone` });
}

test('restart: always respawns a crashing service and reports its exit code; Ctrl-C stops all and exits 0', async (t) => {
  const dir = project(
    t,
    `services:\n  crasher:\n    command: ${argv('exit-with.mjs', '3')}\n    restart: always\n    ${fast}\n    start_limit: { burst: 1000 }\n  steady:\n    command: ${argv('forever.mjs')}\n`,
  );
  const tend = spawnTend(t, ['up'], { cwd: dir });
  await tend.waitForOutput(/crasher exited with code 3/);
  await tend.waitForOutput(/crasher started again \(pid \d+, restart 2\)/);
  await tend.waitForOutput(/steady started \(pid \d+\)/);
  tend.child.kill('SIGINT');
  const { code } = await tend.exited;
  assert.equal(code, 0, tend.output());
  assert.match(tend.output(), /all services stopped/);
  await allGone(tend.servicePids());
  const log = fs.readFileSync(path.join(dir, '.tend', 'logs', 'crasher.log'), 'utf8');
  assert.match(log, /^\S+Z 0 err exiting with 3$/m);
  const events = fs
    .readFileSync(path.join(dir, '.tend', 'logs', 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string; label: string; code?: number });
  assert.ok(events.some((e) => e.kind === 'exited' && e.label === 'crasher' && e.code === 3));
  assert.ok(events.some((e) => e.kind === 'stopped' && e.label === 'steady'));
});

test('restart: on-failure restarts after SIGKILL and reports the signal; a clean exit finishes', async (t) => {
  const dir = project(
    t,
    `services:\n  victim:\n    command: ${argv('forever.mjs')}\n    restart: on-failure\n    ${fast}\n  task:\n    command: ${argv('exit-with.mjs', '0')}\n    restart: on-failure\n`,
  );
  const tend = spawnTend(t, ['up'], { cwd: dir });
  const first = Number((await tend.waitForOutput(/victim started \(pid (\d+)\)/))[1]);
  await tend.waitForOutput(/task finished/);
  process.kill(first, 'SIGKILL');
  await tend.waitForOutput(/victim was killed by SIGKILL/);
  const second = Number((await tend.waitForOutput(/victim started again \(pid (\d+)/))[1]);
  assert.notEqual(second, first);
  tend.child.kill('SIGTERM');
  assert.equal((await tend.exited).code, 0);
  await allGone(tend.servicePids());
});

test('restart: never leaves a failed service down, and tend exits 1 once everything rests', async (t) => {
  const dir = project(t, `services:\n  once:\n    command: ${argv('exit-with.mjs', '4')}\n    restart: never\n`);
  const { code, output } = await runTend(t, ['up'], { cwd: dir });
  assert.equal(code, 1, output);
  assert.match(output, /once exited with code 4/);
  assert.match(output, /once stays down \(exit-code/);
  assert.doesNotMatch(output, /started again/);
});

test('a crash loop ends in fatal at the start limit; a missing program is reported plainly', async (t) => {
  const dir = project(
    t,
    `services:\n  loop:\n    command: ${argv('exit-with.mjs', '1')}\n    restart: always\n    ${fast}\n    start_limit: { burst: 3, interval: 1m }\n  ghost:\n    command: ["/nonexistent/program"]\n    restart: always\n    ${fast}\n    start_limit: { burst: 2 }\n`,
  );
  const { code, output } = await runTend(t, ['up'], { cwd: dir });
  assert.equal(code, 1, output);
  assert.match(output, /loop started 3 times within 1m0s: giving up \(fatal\)/);
  assert.equal(output.match(/loop started/g)?.length, 3 + 1, 'three starts, then the fatal line');
  assert.match(output, /ghost could not start: .*\/nonexistent\/program/);
  assert.match(output, /ghost started 2 times/);
});

test('stop takes down the whole tree, grandchildren that ignore SIGTERM included', async (t) => {
  const dir = project(
    t,
    `services:\n  tree:\n    command: ${argv('spawn-grandchild.mjs', 'ignore-term')}\n    stop: { signal: SIGTERM, timeout: 500ms }\n`,
  );
  const tend = spawnTend(t, ['up'], { cwd: dir });
  const parent = Number((await tend.waitForOutput(/parent (\d+)/))[1]);
  const grandchild = Number((await tend.waitForOutput(/grandchild (\d+)/))[1]);
  tend.child.kill('SIGINT');
  assert.equal((await tend.exited).code, 0);
  assert.match(tend.output(), /tree stopped \(SIGKILL/);
  // tend only says "stopped" once the group is empty: both must already be dead.
  assert.equal(isAlive(parent), false, 'parent');
  assert.equal(isAlive(grandchild), false, 'grandchild');
});

test('a second Ctrl-C kills every group at once', async (t) => {
  const dir = project(t, `services:\n  stubborn:\n    command: ${argv('ignore-term.mjs')}\n    stop: { timeout: 60s }\n    instances: 2\n`);
  const tend = spawnTend(t, ['up'], { cwd: dir });
  await tend.waitForOutput(/stubborn\.1 +\| ready/);
  await tend.waitForOutput(/stubborn\.0 +\| ready/);
  tend.child.kill('SIGINT');
  await tend.waitForOutput(/stubborn\.\d stopping/);
  tend.child.kill('SIGINT');
  assert.equal((await tend.exited).code, 130);
  assert.equal(tend.servicePids().length, 2);
  await allGone(tend.servicePids());
});

test('an internal error of tend still takes every process group down', async (t) => {
  const dir = project(t, `services:\n  web:\n    command: ${argv('forever.mjs')}\n    instances: 3\n`);
  const tend = spawnTend(t, ['up'], { cwd: dir, env: { TEND_TEST_FAULT: 'throw-after-start' } });
  const { code } = await tend.exited;
  assert.equal(code, 1);
  assert.match(tend.output(), /tend: internal error: injected fault/);
  assert.equal(tend.servicePids().length, 3, tend.output());
  await allGone(tend.servicePids());
});

test('1,000,000 lines at full speed: every line in the log file and on the terminal exactly once, in order', async (t) => {
  const count = 1_000_000;
  const dir = project(
    t,
    `services:\n  flood:\n    command: ${argv('flood.mjs', String(count))}\n    restart: never\n    logs: { max_size: 1G }\n`,
  );
  const terminal = path.join(dir, 'terminal.txt');
  const out = fs.openSync(terminal, 'w');
  t.after(() => fs.closeSync(out));
  const child = (await import('node:child_process')).spawn(process.execPath, [(await import('../helpers/spawn-tend.js')).tendBin(), 'up'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', out, 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  const check = (file: string, pattern: RegExp) => {
    const text = fs.readFileSync(file, 'latin1');
    let next = 1;
    for (const match of text.matchAll(pattern)) {
      const n = Number(match[1]);
      assert.equal(n, next, `${file}: expected line ${next}, found ${n}`);
      next += 1;
    }
    assert.equal(next - 1, count, `${file}: lines seen`);
  };
  check(path.join(dir, '.tend', 'logs', 'flood.log'), /^\S+Z 0 out line (\d{9}) \.+$/gm);
  check(terminal, /^flood \| line (\d{9}) \.+$/gm);
});

test('tend check: 0 on a valid file, 2 with every problem positioned on an invalid one', async (t) => {
  const good = project(t, `services:\n  web:\n    command: ["node", "server.js"]\n`);
  const ok = await runTend(t, ['check'], { cwd: good });
  assert.equal(ok.code, 0, ok.output);
  assert.match(ok.output, /ok \(1 services, 1 processes\)/);
  const bad = project(t, `services:\n  web:\n    comand: ["node"]\n    restart: allways\n`);
  const result = await runTend(t, ['check'], { cwd: bad });
  assert.equal(result.code, 2, result.output);
  assert.match(result.output, /tend\.yaml:3:5: .*unknown key "comand" \(did you mean "command"\?\)/);
  assert.match(result.output, /tend\.yaml:4:14: .*allways/);
  assert.doesNotMatch(result.output, /at .*\.js:\d+/, 'no stack trace');
});

test('a partial last line is kept at exit and a very long line is split, not dropped', async (t) => {
  const dir = project(
    t,
    `services:\n  partial:\n    command: ${argv('partial.mjs')}\n  long:\n    command: ${argv('long-line.mjs', '40000')}\n`,
  );
  const { code, output } = await runTend(t, ['up'], { cwd: dir });
  assert.equal(code, 0, output);
  const partial = fs.readFileSync(path.join(dir, '.tend', 'logs', 'partial.log'), 'utf8');
  assert.match(partial, /^\S+Z 0 out no newline at end\n$/);
  const long = fs
    .readFileSync(path.join(dir, '.tend', 'logs', 'long.log'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const texts = long.map((line) => line.replace(/^\S+ 0 out /, ''));
  assert.ok(texts.length >= 3, `40000 bytes in pieces of at most 16 KiB: ${texts.length} lines`);
  assert.equal(texts.join('').length, 40000, 'every byte kept');
});

test('a terminal reader that goes away (tend up | head) stops the echo, not the services', async (t) => {
  const dir = project(t, `services:\n  chatty:\n    command: ${argv('paced-flood.mjs', '100000', '10')}\n`);
  const tend = spawnTend(t, ['up'], { cwd: dir });
  const pid = Number((await tend.waitForOutput(/chatty started \(pid (\d+)\)/))[1]);
  tend.child.stdout?.destroy(); // the reader is gone: tend's next writes get EPIPE
  const log = path.join(dir, '.tend', 'logs', 'chatty.log');
  const size = () => (fs.existsSync(log) ? fs.statSync(log).size : 0);
  const before = size();
  await waitFor(() => size() > before + 10_000, { what: 'the log to keep growing after the reader left' });
  assert.equal(isAlive(pid), true, 'the service still runs');
  assert.equal(tend.child.exitCode, null, 'tend still runs');
  tend.child.kill('SIGINT');
  assert.equal((await tend.exited).code, 0);
  await allGone([pid]);
});
