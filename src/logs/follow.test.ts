import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import type { EventRecord, LogRecord } from '../api/protocol.js';
import { openEventsFile } from './events-file.js';
import { openFileSink, type FileSink } from './file-sink.js';
import { followEvents, followLogs, readLastEvents, readLastLines, type Follower } from './follow.js';
import { createLineDecoder } from './line-decoder.js';
import { openChainBackward } from './read-back.js';

const T0 = Date.parse('2026-11-24T07:57:23.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-follow-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes lines "<prefix><i>" for i in [from, to), one ms apart starting at T0 + i. */
function writeNumbered(sink: FileSink, from: number, to: number, prefix = 'line '): void {
  for (let i = from; i < to; i++) sink.write([Buffer.from(`${prefix}${i}`)], { time: T0 + i, instance: 0, stream: 'out' });
}

const numbers = (records: readonly LogRecord[]): number[] => records.map((r) => Number(r.line.split(' ').at(-1)));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Collects pushed items; `until` resolves once enough arrived (checked on each push), or fails at a deadline. */
function collector<T>() {
  const items: T[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  return {
    items,
    push(item: T): void {
      items.push(item);
      if (waiting !== null && items.length >= waiting.count) waiting.resolve();
    },
    until(count: number, timeoutMs = 20_000): Promise<void> {
      if (items.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} items, got ${items.length}`)), timeoutMs);
        waiting = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiting = null;
            resolve();
          },
        };
      });
    },
  };
}

function stopAfter(t: { after(fn: () => void): void }, follower: Follower): Follower {
  t.after(() => follower.stop());
  return follower;
}

test('readLastLines: the last N span three rotated files, oldest first', (t) => {
  const file = path.join(tempDir(t), 'web.log');
  // Each line is 41 bytes ("<24-char time> 0 out line NNNN\n"): 25 lines per file of 1025 bytes.
  const sink = openFileSink({ file, maxSize: 1025, keep: 5 });
  writeNumbered(sink, 1000, 1100);
  sink.close();
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length - 1, 25);
  const files = [{ service: 'web', file, keep: 5 }];
  const { records } = readLastLines({ files, lines: 60 });
  assert.deepEqual(numbers(records), range(1040, 1100));
  assert.deepEqual(records[0], {
    time: iso(T0 + 1040),
    service: 'web',
    instance: 0,
    unit: 'web.0',
    label: 'web.0',
    stream: 'out',
    line: 'line 1040',
  });
  // More than there is: everything kept (file, .1, .2, .3 = 100 lines).
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000 }).records), range(1000, 1100));
  assert.deepEqual(readLastLines({ files, lines: 0 }).records, []);
});

test('readLastLines: since stops at the first older line', (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: 1000, keep: 5 });
  writeNumbered(sink, 1000, 1100);
  sink.close();
  const files = [{ service: 'web', file, keep: 5 }];
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000, since: T0 + 1030 }).records), range(1030, 1100));
  assert.deepEqual(numbers(readLastLines({ files, lines: 10, since: T0 + 1030 }).records), range(1090, 1100));
  assert.deepEqual(readLastLines({ files, lines: 10, since: T0 + 5000 }).records, []);
});

test('readLastLines: three services merged by time; ties keep service order', (t) => {
  const dir = tempDir(t);
  const files = ['a', 'b', 'c'].map((service) => ({ service, file: path.join(dir, `${service}.log`), keep: 2 }));
  const sinks = files.map(({ file }) => openFileSink({ file, maxSize: 0, keep: 2 }));
  const write = (index: number, time: number, text: string): void =>
    sinks[index]?.write([Buffer.from(text)], { time: T0 + time, instance: index, stream: index === 1 ? 'err' : 'out' });
  write(0, 1, 'a1');
  write(1, 2, 'b2');
  write(2, 2, 'c2');
  write(0, 2, 'a2');
  write(2, 3, 'c3');
  write(1, 3, 'b3');
  write(0, 5, 'a5');
  write(1, 5, 'b5');
  write(2, 4, 'c4');
  for (const sink of sinks) sink.close();
  const lines = (n: number): string[] => readLastLines({ files, lines: n }).records.map((r) => r.line);
  assert.deepEqual(lines(100), ['a1', 'a2', 'b2', 'c2', 'b3', 'c3', 'c4', 'a5', 'b5']);
  assert.deepEqual(lines(4), ['c3', 'c4', 'a5', 'b5']);
  const b = readLastLines({ files, lines: 100 }).records.find((r) => r.line === 'b2');
  assert.deepEqual(b, { time: iso(T0 + 2), service: 'b', instance: 1, unit: 'b.1', label: 'b.1', stream: 'err', line: 'b2' });
});

test('readLastLines: foreign lines skipped, a trailing partial line left to the follower', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'web.log');
  const good = (i: number): string => `${iso(T0 + i)} 0 out line ${i}\n`;
  fs.writeFileSync(
    `${file}.1`,
    `${good(1)}garbage\n\n${good(2)}not a log ${'x'.repeat(200_000)}\n${good(3)}no newline at the end of a finished file`,
  );
  const partial = `${iso(T0 + 6)} 0 out line 6 is being writ`;
  fs.writeFileSync(file, `\u0000\u0001 binary\n${good(4)}{"json":true}\n${good(5)}${partial}`);
  const files = [{ service: 'web', file, keep: 1 }];
  const snapshot = readLastLines({ files, lines: 100 });
  assert.deepEqual(numbers(snapshot.records), [1, 2, 3, 4, 5]);
  const position = snapshot.positions.get('web');
  assert.deepEqual(position, { ino: fs.statSync(file).ino, offset: fs.statSync(file).size - Buffer.byteLength(partial) });
  // Missing files are no error: nothing to show, and a follower waits for the file to appear.
  const none = readLastLines({ files: [{ service: 'x', file: path.join(dir, 'x.log'), keep: 3 }], lines: 10 });
  assert.deepEqual(none.records, []);
  assert.deepEqual(none.positions.get('x'), { ino: 0, offset: 0 });
});

test('openChainBackward: rotations during the walk neither repeat a file nor bring in newer ones', (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: 1025, keep: 10 });
  t.after(() => sink.close());
  writeNumbered(sink, 1000, 1100); // .3 = 1000-1024, .2, .1, file = 1075-1099
  const reader = openChainBackward(file, 10);
  t.after(() => reader.close());
  const seen: number[] = [];
  for (let line = reader.next(); line !== undefined; line = reader.next()) {
    // Three rotations while the current file is being read: every name now means another file.
    if (seen.length === 0) writeNumbered(sink, 1100, 1160);
    seen.push(Number(line.split(' ').at(-1)));
  }
  assert.deepEqual(seen, range(1000, 1100).reverse());
  assert.equal(reader.position.offset, 25 * 41);
});

test('line decoder: lines across chunk edges, a UTF-8 character split between reads', () => {
  const lines: string[] = [];
  const decoder = createLineDecoder((line) => lines.push(line));
  const bytes = Buffer.from('héllo\nwörld\n\nlast bit', 'utf8');
  // Every split point, including inside the two-byte "é" and "ö".
  for (let cut = 0; cut <= bytes.length; cut++) {
    lines.length = 0;
    decoder.push(bytes.subarray(0, cut));
    decoder.push(bytes.subarray(cut));
    assert.deepEqual(lines, ['héllo', 'wörld', ''], `cut at ${cut}`);
    decoder.flush();
    assert.deepEqual(lines.at(-1), 'last bit');
  }
  lines.length = 0;
  decoder.push(Buffer.from('held'));
  decoder.reset();
  decoder.push(Buffer.from('new\n'));
  assert.deepEqual(lines, ['new']);
});

test('followLogs: several rotations between two wake-ups are chased file by file', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: 1025, keep: 4 });
  t.after(() => sink.close());
  writeNumbered(sink, 1000, 1010);
  const got = collector<LogRecord>();
  stopAfter(t, followLogs({ files: [{ service: 'web', file, keep: 4 }] }, got.push));
  await tick();
  // 90 lines without yielding: three rotations (25 lines a file) before the tailer runs again.
  writeNumbered(sink, 1010, 1100);
  await got.until(90);
  assert.deepEqual(numbers(got.items), range(1010, 1100));
});

test('snapshot then follow: nothing lost or repeated, even with rotations in between', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: 2000, keep: 6 });
  t.after(() => sink.close());
  const files = [{ service: 'web', file, keep: 6 }];
  writeNumbered(sink, 1000, 1130);
  // A line being written by another process when the snapshot is taken.
  fs.appendFileSync(file, `${iso(T0)} 0 out line 11`);
  const snapshot = readLastLines({ files, lines: 1_000_000 });
  assert.equal(snapshot.records.length, 130); // .2 and .1 (48 lines each), file (34 lines + a partial)
  fs.appendFileSync(file, '30\n');
  // Written after the snapshot and before the follower starts: two rotations.
  writeNumbered(sink, 1131, 1240);
  const got = collector<LogRecord>();
  stopAfter(t, followLogs({ files, from: snapshot.positions }, got.push));
  writeNumbered(sink, 1240, 1300);
  await got.until(170);
  const seen = [...numbers(snapshot.records), ...numbers(got.items)];
  assert.deepEqual(seen, range(1000, 1300));
  assert.equal(numbers(got.items)[0], 1130);
});

test('followLogs: a partial line is held until its newline arrives; truncation restarts at 0', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  fs.writeFileSync(file, `${iso(T0)} 0 out old\n`);
  const got = collector<LogRecord>();
  stopAfter(t, followLogs({ files: [{ service: 'web', file, keep: 0 }] }, got.push));
  fs.appendFileSync(file, `${iso(T0 + 1)} 0 out first\n${iso(T0 + 2)} 1 err hel`);
  await got.until(1);
  fs.appendFileSync(file, 'lo world\n');
  await got.until(2);
  assert.deepEqual(
    got.items.map((r) => [r.instance, r.stream, r.line]),
    [
      [0, 'out', 'first'],
      [1, 'err', 'hello world'],
    ],
  );
  fs.writeFileSync(file, `${iso(T0 + 3)} 0 out after truncation\n`);
  await got.until(3);
  assert.equal(got.items[2]?.line, 'after truncation');
});

test('followLogs: three services, a file that appears later, stop() releases every handle', async (t) => {
  const dir = tempDir(t);
  const files = ['a', 'b', 'c'].map((service) => ({ service, file: path.join(dir, 'sub', `${service}.log`), keep: 2 }));
  const count = (name: string): number => process.getActiveResourcesInfo().filter((r) => r === name).length;
  await tick();
  const before = { watchers: count('FSEventWrap'), timers: count('Timeout') };
  const got = collector<LogRecord>();
  // No directory yet: the follower polls until it appears, then starts at the top of each file.
  const follower = followLogs({ files, from: readLastLines({ files, lines: 10 }).positions }, got.push);
  const sinks = files.map(({ file }) => openFileSink({ file, maxSize: 0, keep: 2 }));
  for (const [index, sink] of sinks.entries()) writeNumbered(sink, index * 10, index * 10 + 10);
  await got.until(30);
  assert.deepEqual(
    numbers(got.items).sort((x, y) => x - y),
    range(0, 30),
  );
  for (const service of ['a', 'b', 'c']) {
    const mine = got.items.filter((r) => r.service === service);
    assert.deepEqual(
      numbers(mine),
      [...numbers(mine)].sort((x, y) => x - y),
    );
  }
  follower.stop();
  follower.stop();
  for (const sink of sinks) sink.close();
  await tick();
  assert.deepEqual({ watchers: count('FSEventWrap'), timers: count('Timeout') }, before);
});

test('events: last N skips bad lines; follow picks up appends and a truncation', async (t) => {
  const file = path.join(tempDir(t), 'events.jsonl');
  const events = openEventsFile(file);
  t.after(() => events.close());
  for (let i = 0; i < 5; i++) events.append({ time: iso(T0 + i), kind: 'spawned', service: 'web', n: i });
  fs.appendFileSync(file, 'not json\n[1,2]\n{"time":1,"kind":"x"}\n{"kind":"no time"}\n');
  events.append({ time: iso(T0 + 5), kind: 'exited', service: 'web', n: 5 });
  const snapshot = readLastEvents(file, 3);
  assert.deepEqual(
    snapshot.records.map((r) => (r as unknown as { n: number }).n),
    [3, 4, 5],
  );
  assert.deepEqual(readLastEvents(file, 0).records, []);
  assert.deepEqual(readLastEvents(path.join(path.dirname(file), 'none.jsonl'), 5), { records: [], position: { ino: 0, offset: 0 } });
  const got = collector<EventRecord>();
  stopAfter(t, followEvents(file, snapshot.position, got.push));
  events.append({ time: iso(T0 + 6), kind: 'ready', service: 'web', n: 6 });
  await got.until(1);
  fs.truncateSync(file, 0);
  fs.appendFileSync(file, `${JSON.stringify({ time: iso(T0 + 7), kind: 'reloaded', n: 7 })}\n`);
  await got.until(2);
  assert.deepEqual(
    got.items.map((r) => [r.kind, (r as unknown as { n: number }).n]),
    [
      ['ready', 6],
      ['reloaded', 7],
    ],
  );
});
