import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import zlib from 'node:zlib';
import type { LogRecord } from '../api/protocol.js';
import { openFileSink, type FileSink } from './file-sink.js';
import { followLogs, readLastLines, type Follower } from './follow.js';
import { openSuccessor, tryOpen } from './rotation-chain.js';

const T0 = Date.parse('2026-11-24T07:57:23.000Z');
// "<24-char time> 0 out line NNNN\n" is 41 bytes: 25 lines fill a file of 1025 bytes.
const FILE_BYTES = 1025;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-follow-gz-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeNumbered(sink: FileSink, from: number, to: number): void {
  for (let i = from; i < to; i++) sink.write([Buffer.from(`line ${i}`)], { time: T0 + i, instance: 0, stream: 'out' });
}

const numbers = (records: readonly LogRecord[]): number[] => records.map((r) => Number(r.line.split(' ').at(-1)));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function collect(t: { after(fn: () => void): void }, start: (push: (record: LogRecord) => void) => Follower) {
  const items: LogRecord[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  const follower = start((record) => {
    items.push(record);
    if (waiting !== null && items.length >= waiting.count) waiting.resolve();
  });
  t.after(() => follower.stop());
  return {
    items,
    until: (count: number): Promise<void> =>
      items.length >= count
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} records, got ${items.length}`)), 20_000);
            waiting = { count, resolve: () => (clearTimeout(timer), resolve()) };
          }),
  };
}

test('readLastLines: spans the plain files and the .gz ones, oldest first', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: FILE_BYTES, keep: 5, compress: true });
  t.after(() => sink.close());
  writeNumbered(sink, 1000, 1110); // .4 … .2 compressed, .1 plain, file = 1100-1109
  await sink.settled();
  assert.ok(fs.existsSync(`${file}.4.gz`) && !fs.existsSync(`${file}.2`) && fs.existsSync(`${file}.1`));
  const files = [{ service: 'web', file, keep: 5 }];
  assert.deepEqual(numbers(readLastLines({ files, lines: 20 }).records), range(1090, 1110));
  assert.deepEqual(numbers(readLastLines({ files, lines: 60 }).records), range(1050, 1110));
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000 }).records), range(1000, 1110));
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000, since: T0 + 1040 }).records), range(1040, 1110));
});

test('readLastLines: a compression in flight, both names at once, a missing or damaged .gz', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: FILE_BYTES, keep: 6, compress: true });
  t.after(() => sink.close());
  const files = [{ service: 'web', file, keep: 6 }];
  writeNumbered(sink, 1000, 1110);
  // Not yet settled: .2 is being compressed (its temp is hidden), .3 and .4 wait in plain.
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000 }).records), range(1000, 1110));
  await sink.settled();
  // A publish between its rename and its unlink (or cut short by a crash): both names hold the lines.
  fs.writeFileSync(`${file}.2`, zlib.gunzipSync(fs.readFileSync(`${file}.2.gz`)));
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000 }).records), range(1000, 1110));
  // Missing in the middle: the lines around it, still in order; damaged: read as empty.
  fs.rmSync(`${file}.3.gz`);
  fs.writeFileSync(`${file}.4.gz`, 'not gzip');
  assert.deepEqual(numbers(readLastLines({ files, lines: 1000 }).records), range(1050, 1110));
});

test('follow: a follower that fell behind compressions finds its file by origin and reads the .gz once', async (t) => {
  const file = path.join(tempDir(t), 'web.log');
  const sink = openFileSink({ file, maxSize: FILE_BYTES, keep: 8, compress: true });
  t.after(() => sink.close());
  const files = [{ service: 'web', file, keep: 8 }];
  writeNumbered(sink, 1000, 1010);
  const snapshot = readLastLines({ files, lines: 1000 });
  // Holding the file as a follower does: its inode cannot be reused while it is compressed away.
  const held = tryOpen(file);
  assert.ok(held !== null);
  t.after(() => fs.closeSync(held.fd));
  writeNumbered(sink, 1010, 1100); // it rotates to .3; .3 and .2 are compressed, .1 stays plain
  await sink.settled();
  assert.ok(!fs.existsSync(`${file}.3`) && fs.existsSync(`${file}.3.gz`));
  const next = openSuccessor(file, 8, held);
  assert.ok(typeof next === 'object' && next.isCompressed, 'its successor is .2.gz');
  fs.closeSync(next.fd);
  const got = collect(t, (push) => followLogs({ files, from: snapshot.positions }, push));
  writeNumbered(sink, 1100, 1130);
  await got.until(120);
  await tick();
  assert.deepEqual([...numbers(snapshot.records), ...numbers(got.items)], range(1000, 1130));
});
