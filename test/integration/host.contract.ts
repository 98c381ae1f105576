// The ProcessHost contract, run against every implementation (hono's common.case pattern):
// the data plane in this process, and the keeper's through an in-memory link. Real processes
// from test/fixtures, facts awaited with deadlines, never sleeps or timings; output is checked
// where the host puts it, in the unit's log file. Every group a test creates is tracked by
// leak-guard and ended when the test ends.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { HostListener, OutputStream, ProcessHost } from '../../src/host/host.js';
import { isAlive, readStat } from '../../src/host/proc.js';
import { inheritedEnv, nodeFixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup, trackPid, trackedStartTime } from '../helpers/leak-guard.js';
import { RecordingListener } from '../helpers/recording-listener.js';
import { waitFor } from '../helpers/wait-for.js';

export type MakeHost = (listener: HostListener) => ProcessHost;

/** Test name → reason, for an implementation that cannot (yet) pass a case. */
export type Skips = Readonly<Record<string, string>>;

interface Harness {
  readonly host: ProcessHost;
  readonly rec: RecordingListener;
  /** Spawns argv as unit (cwd = tmpdir, env = ours, which carries the suite's leak marker). */
  spawn(unit: string, argv: readonly string[], extra?: { cwd?: string; notifyFd?: number }): void;
  /** Spawns and resolves with the pid of the nth spawned event of the unit. */
  start(unit: string, argv: readonly string[]): Promise<number>;
  /** The unit's output on one stream as its log file has it: each line's text, "\n" after each. */
  output(unit: string, stream?: OutputStream): string;
  /** The first match of pattern in the unit's logged output (a string matches literally). */
  waitForOutput(unit: string, pattern: string | RegExp, stream?: OutputStream): Promise<RegExpMatchArray>;
}

/** A host whose every group is tracked at birth and ended (and checked) when the test ends. */
function setUp(t: TestContext, makeHost: MakeHost): Harness {
  const rec = new RecordingListener();
  const pgids = new Set<number>();
  const logDir = mkdtempSync(join(tmpdir(), 'tend-host-logs-'));
  const host = makeHost({
    event(event) {
      if (event.type === 'spawned') {
        trackGroup(event.pid);
        pgids.add(event.pid);
      }
      rec.event(event);
    },
  });
  t.after(async () => {
    for (const pgid of pgids) await endGroup(pgid);
    await waitFor(() => host.liveUnits().length === 0, { what: 'liveUnits() to be empty', seen: () => host.liveUnits().join(', ') });
    host.close();
    rmSync(logDir, { recursive: true, force: true });
    assert.deepEqual(rec.violations, [], 'listener contract violations');
  });
  const logOf = (unit: string) => join(logDir, `${unit}.log`);
  const spawn = (unit: string, argv: readonly string[], extra: { cwd?: string; notifyFd?: number } = {}): void => {
    const log = { file: logOf(unit), maxSize: 1024 ** 3, keep: 1, instance: 0 };
    const notify = extra.notifyFd === undefined ? {} : { notifyFd: extra.notifyFd };
    host.spawn({ unit, argv, cwd: extra.cwd ?? tmpdir(), env: inheritedEnv(), log, ...notify });
  };
  const output = (unit: string, stream: OutputStream = 'out'): string => {
    if (!existsSync(logOf(unit))) return '';
    const mark = ` 0 ${stream} `;
    let text = '';
    for (const line of readFileSync(logOf(unit), 'utf8').split('\n')) {
      const at = line.indexOf(mark); // after the timestamp, which has no spaces
      if (at > 0 && at === line.indexOf(' ')) text += `${line.slice(at + mark.length)}\n`;
    }
    return text;
  };
  return {
    host,
    rec,
    spawn,
    output,
    async start(unit, argv) {
      const nth = rec.eventsOf(unit).filter((e) => e.type === 'spawned').length + 1;
      spawn(unit, argv);
      return (await rec.waitForEvent(unit, 'spawned', { nth })).pid;
    },
    async waitForOutput(unit, pattern, stream = 'out') {
      const regexp = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
      return waitFor(() => regexp.exec(output(unit, stream)) ?? undefined, {
        what: `${String(regexp)} in the log of ${unit}/${stream}`,
        seen: () => output(unit, stream).slice(-2000),
      });
    },
  };
}

function isGone(pid: number): boolean {
  return !isAlive(pid, trackedStartTime(pid));
}

export function runHostContract(name: string, makeHost: MakeHost, skips: Skips = {}): void {
  const it = (title: string, body: (t: TestContext) => Promise<void>): void => {
    const reason = skips[title];
    if (reason !== undefined) test(title, { skip: reason }, () => {});
    else test(title, body);
  };

  describe(`ProcessHost contract: ${name}`, () => {
    for (const [args, code, signal] of [
      [['0'], 0, null],
      [['3'], 3, null],
      [['0', 'SIGTERM'], null, 'SIGTERM'],
    ] as const) {
      it(`reports spawned, then exited with code ${code} / signal ${signal}`, async (t) => {
        const { rec, start, output } = setUp(t, makeHost);
        const pid = await start('exit', nodeFixture('exit-with.mjs', ...args));
        const exited = await rec.waitForEvent('exit', 'exited');
        assert.deepEqual(exited, { type: 'exited', unit: 'exit', pid, code, signal, groupEmpty: true });
        assert.equal(output('exit', 'err'), `exiting with ${signal ?? code}\n`, 'its output is in the log before its exit is reported');
      });
    }

    it('reports the signal of a process killed from outside', async (t) => {
      const { rec, start, waitForOutput } = setUp(t, makeHost);
      const pid = await start('victim', nodeFixture('forever.mjs'));
      await waitForOutput('victim', `${pid}\n`);
      process.kill(pid, 'SIGKILL'); // it cannot have been reaped: no exited yet
      const exited = await rec.waitForEvent('victim', 'exited');
      assert.deepEqual([exited.pid, exited.code, exited.signal], [pid, null, 'SIGKILL']);
    });

    const dir = mkdtempSync(join(tmpdir(), 'tend-host-'));
    const notExecutable = join(dir, 'not-executable.sh');
    writeFileSync(notExecutable, '#!/bin/sh\necho hi\n');
    chmodSync(notExecutable, 0o644);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    for (const [what, argv, cwd, message] of [
      [
        'a missing program',
        ['/nonexistent/tend-no-such-program'],
        undefined,
        /^cannot start "\/nonexistent\/tend-no-such-program": program not found$/,
      ],
      ['a program not on PATH', ['tend-no-such-program-on-path'], undefined, /program not found/],
      [
        'a missing cwd',
        [process.execPath, '-e', '0'],
        '/nonexistent/tend-no-such-dir',
        /working directory "\/nonexistent\/tend-no-such-dir"/,
      ],
      ['a file that is not executable', [notExecutable], undefined, /permission denied/],
      ['an empty command', [], undefined, /^cannot start "": /],
    ] as const) {
      it(`reports spawn-failed for ${what}, and no exited after it`, async (t) => {
        const { host, rec, spawn } = setUp(t, makeHost);
        spawn('broken', argv, cwd === undefined ? {} : { cwd });
        const failed = await rec.waitForEvent('broken', 'spawn-failed');
        assert.match(failed.error, message);
        // A stop is answered at once, and it is the barrier: an exited would have come before it.
        host.stopGroup('broken', { signal: 'SIGTERM', timeoutMs: 10_000 });
        assert.deepEqual(await rec.waitForEvent('broken', 'group-gone'), { type: 'group-gone', unit: 'broken', forced: false });
        assert.deepEqual(rec.typesOf('broken'), ['spawn-failed', 'group-gone']);
      });
    }

    it('a newline on the notification fd is reported once as notified, with the pid; the fds between are closed', async (t) => {
      const { host, rec, spawn, waitForOutput } = setUp(t, makeHost);
      // fd 3 is closed in the child (only 0-2 and the notification fd are set up), so writing to it fails.
      const script =
        'echo 3: $( (echo >&3) 2>&1 >/dev/null | wc -l ); printf "not yet" >&4; printf " ready\\nand again\\n" >&4; echo >&4; exec sleep 100000';
      spawn('notifier', ['/bin/sh', '-c', script], { notifyFd: 4 });
      const { pid } = await rec.waitForEvent('notifier', 'spawned');
      assert.deepEqual(await rec.waitForEvent('notifier', 'notified'), { type: 'notified', unit: 'notifier', pid });
      await waitForOutput('notifier', /^3: 1\n/);
      host.stopGroup('notifier', { signal: 'SIGTERM', timeoutMs: 10_000 });
      await rec.waitForEvent('notifier', 'group-gone');
      assert.deepEqual(rec.typesOf('notifier'), ['spawned', 'notified', 'exited', 'group-gone']);
    });

    it('counts the lines and bytes each log took', async (t) => {
      const { host, rec, start } = setUp(t, makeHost);
      await start('counted', ['/bin/sh', '-c', 'printf "one\\ntwo\\n"; printf "three\\n" >&2']);
      await rec.waitForEvent('counted', 'exited');
      assert.deepEqual((await host.logStats()).counted, { lines: 3, bytes: 14 });
    });

    it('logs all output in order, every line before the exit is reported', async (t) => {
      const { rec, start, output } = setUp(t, makeHost);
      const lines = 20_000; // 2 MB: many chunks, and back-pressure in the writer
      await start('flood', nodeFixture('flood.mjs', String(lines)));
      await rec.waitForEvent('flood', 'exited');
      const line = (i: number) => `line ${String(i + 1).padStart(9, '0')} `.padEnd(99, '.');
      const expected = Array.from({ length: lines }, (_, i) => `${line(i)}\n`).join('');
      const logged = output('flood');
      assert.equal(logged.length, expected.length);
      assert.ok(logged === expected, 'the log differs from what flood.mjs wrote');
      assert.equal(output('flood', 'err'), '');
    });

    it('logs a last line without newline, and a very long line in 16 KiB pieces, in order', async (t) => {
      const { rec, start, output } = setUp(t, makeHost);
      await start('partial', nodeFixture('partial.mjs'));
      await start('long', nodeFixture('long-line.mjs', '1000000'));
      await rec.waitForEvent('partial', 'exited');
      await rec.waitForEvent('long', 'exited');
      assert.equal(output('partial'), 'no newline at end\n');
      const pieces = output('long').split('\n').slice(0, -1);
      assert.ok(pieces.every((piece) => piece.length <= 16384));
      assert.equal(pieces.join(''), 'x'.repeat(1_000_000));
    });

    it('stopGroup kills a tree whose grandchild ignores SIGTERM (forced), and answers only when both are gone', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      await start('tree', nodeFixture('spawn-grandchild.mjs', 'ignore-term'));
      const parent = Number((await waitForOutput('tree', /parent (\d+)\n/))[1]);
      const grandchild = Number((await waitForOutput('tree', /grandchild (\d+)\n/))[1]);
      trackPid(parent);
      trackPid(grandchild);
      assert.equal(readStat(grandchild)?.pgrp, parent, 'the grandchild is in the same process group');
      host.stopGroup('tree', { signal: 'SIGTERM', timeoutMs: 300 });
      const gone = await rec.waitForEvent('tree', 'group-gone');
      assert.ok(isGone(parent) && isGone(grandchild), 'group-gone came while a member was alive');
      assert.equal(gone.forced, true);
      assert.deepEqual(rec.typesOf('tree'), ['spawned', 'exited', 'group-gone']);
      assert.equal((await rec.waitForEvent('tree', 'exited')).signal, 'SIGKILL');
    });

    it('stopGroup stops a plain service with its signal (not forced)', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      const pid = await start('plain', nodeFixture('forever.mjs'));
      await waitForOutput('plain', `${pid}\n`);
      host.stopGroup('plain', { signal: 'SIGTERM', timeoutMs: 10_000 });
      assert.equal((await rec.waitForEvent('plain', 'group-gone')).forced, false);
      assert.deepEqual(rec.typesOf('plain'), ['spawned', 'exited', 'group-gone']);
      assert.equal((await rec.waitForEvent('plain', 'exited')).signal, 'SIGTERM');
    });

    it('stopGroup after the leader died cleans up the grandchild it left behind', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      const parent = await start('orphaned', nodeFixture('spawn-grandchild.mjs'));
      const grandchild = Number((await waitForOutput('orphaned', /grandchild (\d+)\n/))[1]);
      trackPid(grandchild);
      process.kill(parent, 'SIGKILL');
      const exited = await rec.waitForEvent('orphaned', 'exited');
      assert.equal(exited.signal, 'SIGKILL');
      assert.equal(exited.groupEmpty, false, 'the grandchild is still in the group');
      assert.ok(!isGone(grandchild), 'the grandchild survives its parent (the case under test)');
      host.stopGroup('orphaned', { signal: 'SIGTERM', timeoutMs: 10_000 });
      assert.equal((await rec.waitForEvent('orphaned', 'group-gone')).forced, false);
      assert.ok(isGone(grandchild), 'group-gone came while the grandchild was alive');
    });

    it('stopGroup answers promptly when nothing is left, and for unknown units', async (t) => {
      const { host, rec, start } = setUp(t, makeHost);
      await start('done', nodeFixture('exit-with.mjs', '0'));
      await rec.waitForEvent('done', 'exited');
      host.stopGroup('done', { signal: 'SIGTERM', timeoutMs: 60_000 });
      host.stopGroup('never-spawned', { signal: 'SIGTERM', timeoutMs: 60_000 });
      assert.equal((await rec.waitForEvent('done', 'group-gone')).forced, false);
      assert.equal((await rec.waitForEvent('never-spawned', 'group-gone')).forced, false);
      assert.deepEqual(rec.typesOf('done'), ['spawned', 'exited', 'group-gone']);
      assert.deepEqual(rec.typesOf('never-spawned'), ['group-gone']);
    });

    it('killAll kills every group, grandchildren that ignore SIGTERM included', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      await start('a', nodeFixture('forever.mjs'));
      await start('b', nodeFixture('ignore-term.mjs'));
      await start('c', nodeFixture('spawn-grandchild.mjs', 'ignore-term'));
      await waitForOutput('b', 'ready\n');
      const grandchild = Number((await waitForOutput('c', /grandchild (\d+)\n/))[1]);
      trackPid(grandchild);
      assert.deepEqual(host.liveUnits().sort(), ['a', 'b', 'c']);
      host.killAll();
      for (const unit of ['a', 'b', 'c']) assert.equal((await rec.waitForEvent(unit, 'exited')).signal, 'SIGKILL');
      await waitFor(() => isGone(grandchild), { what: `grandchild ${grandchild} to be gone` });
      await waitFor(() => host.liveUnits().length === 0, { what: 'liveUnits() to be empty' });
    });

    it('a unit spawned again after group-gone never mixes the two lives', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      const first = await start('svc', nodeFixture('forever.mjs'));
      await waitForOutput('svc', `${first}\n`);
      host.stopGroup('svc', { signal: 'SIGTERM', timeoutMs: 10_000 });
      await rec.waitForEvent('svc', 'group-gone');
      const second = await start('svc', nodeFixture('forever.mjs'));
      assert.notEqual(second, first);
      await waitForOutput('svc', `${first}\n${second}\n`);
      host.stopGroup('svc', { signal: 'SIGTERM', timeoutMs: 10_000 });
      await rec.waitForEvent('svc', 'group-gone', { nth: 2 });
      const lives = rec.eventsOf('svc').map((e) => `${e.type}${'pid' in e ? ` ${e.pid}` : ''}`);
      assert.deepEqual(lives, [`spawned ${first}`, `exited ${first}`, 'group-gone', `spawned ${second}`, `exited ${second}`, 'group-gone']);
    });

    it('a crash-looping unit reports each life under its own pid', async (t) => {
      const { rec, start } = setUp(t, makeHost);
      const pids: number[] = [];
      for (let life = 1; life <= 3; life += 1) {
        pids.push(await start('crashy', nodeFixture('exit-with.mjs', '1')));
        assert.equal((await rec.waitForEvent('crashy', 'exited', { nth: life })).pid, pids.at(-1));
      }
      assert.equal(new Set(pids).size, 3);
      assert.deepEqual(rec.typesOf('crashy'), ['spawned', 'exited', 'spawned', 'exited', 'spawned', 'exited']);
    });

    it('a SIGSTOPped service still acts on its stop signal (SIGCONT follows it)', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      const pid = await start('frozen', nodeFixture('forever.mjs', 'graceful'));
      await waitForOutput('frozen', `${pid}\n`);
      process.kill(pid, 'SIGSTOP');
      await waitFor(() => readStat(pid)?.state === 'T', { what: `${pid} to be stopped` });
      host.stopGroup('frozen', { signal: 'SIGTERM', timeoutMs: 10_000 });
      assert.equal((await rec.waitForEvent('frozen', 'group-gone')).forced, false);
      assert.equal((await rec.waitForEvent('frozen', 'exited')).code, 0);
      await waitForOutput('frozen', 'stopping\n'); // its SIGTERM handler ran
    });

    it('signalGroup signals a live group and says false for a unit without one', async (t) => {
      const { host, rec, start, waitForOutput } = setUp(t, makeHost);
      const pid = await start('sig', nodeFixture('forever.mjs'));
      await waitForOutput('sig', `${pid}\n`);
      assert.equal(host.signalGroup('sig', 'SIGTERM'), true);
      assert.equal((await rec.waitForEvent('sig', 'exited')).signal, 'SIGTERM');
      assert.equal(host.signalGroup('no-such-unit', 'SIGTERM'), false);
    });
  });
}
