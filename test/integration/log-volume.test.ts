// Volume runs of the log pipeline: hundreds of thousands of lines through the framer, the file
// sink's rotation and compression, and the followers, each line checked to arrive exactly once
// and in order. They take seconds (tens on a loaded machine), so they live here rather than
// beside their modules, whose unit tests stay fast (`npm run test:unit`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import zlib from 'node:zlib';
import type { LogRecord } from '../../src/api/protocol.js';
import { compressTempName } from '../../src/logs/chain-names.js';
import { type FileSink, openFileSink, parseLogLine } from '../../src/logs/file-sink.js';
import { followLogs } from '../../src/logs/follow.js';
import { createFramer } from '../../src/logs/framer.js';
import { readGzipOrigin } from '../../src/logs/gzip-origin.js';

const T0 = Date.parse('2026-11-24T07:57:23.123Z');
// Generous: the deadline only says when to give up and show what arrived, not how fast is fast.
const DEADLINE_MS = 120_000;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-log-volume-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const numbers = (records: readonly LogRecord[]): number[] => records.map((r) => Number(r.line.split(' ').at(-1)));

function assertRun(numbers: readonly number[], from: number, to: number): void {
  assert.equal(numbers.length, to - from, `expected lines ${from}…${to - 1}, got ${numbers.length} lines`);
  for (let i = 0; i < numbers.length; i++) if (numbers[i] !== from + i) assert.fail(`line ${i} is ${numbers[i]}, expected ${from + i}`);
}

/** "line 0000123" lines [from, to) in one batch: 24 + " 0 out " (7) + 12 + "\n" = 44 bytes each. */
function writeNumbered(sink: FileSink, from: number, to: number): void {
  const lines: Buffer[] = [];
  for (let i = from; i < to; i++) lines.push(Buffer.from(`line ${String(i).padStart(7, '0')}`));
  sink.write(lines, { time: T0 + from, instance: 0, stream: 'out' });
}
const LINE_BYTES = 44;

/** What each chain index holds now: 'plain', 'gz', or 'both' (never expected at rest). */
function layout(file: string, keep: number): string[] {
  const kinds: string[] = [];
  for (let index = 0; index <= keep + 1; index++) {
    const plain = fs.existsSync(index === 0 ? file : `${file}.${index}`);
    const gz = fs.existsSync(`${file}.${index}.gz`);
    kinds.push(plain && gz ? 'both' : plain ? 'plain' : gz ? 'gz' : '-');
  }
  return kinds;
}

/** Every line number in the chain, oldest file first, .gz files gunzipped. */
function chainNumbers(file: string, keep: number): number[] {
  const found: number[] = [];
  for (let index = keep; index >= 0; index--) {
    const plain = index === 0 ? file : `${file}.${index}`;
    const gz = `${file}.${index}.gz`;
    let text: string;
    if (fs.existsSync(gz)) text = zlib.gunzipSync(fs.readFileSync(gz)).toString('utf8');
    else if (fs.existsSync(plain)) text = fs.readFileSync(plain, 'utf8');
    else continue;
    for (const line of text.split('\n').slice(0, -1)) found.push(Number(parseLogLine(line)?.text.slice(5)));
  }
  return found;
}

/** Follows `file` until `count` records arrived (checked on each push), or fails at the deadline. */
function follow(t: { after(fn: () => void): void }, file: string, keep: number) {
  const items: LogRecord[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  const follower = followLogs({ files: [{ service: 'flood', file, keep }] }, (record) => {
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
            const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} records, got ${items.length}`)), DEADLINE_MS);
            waiting = {
              count,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            };
          }),
  };
}

/** Writes lines 0…total-1 in bursts, yielding between them so the follower's tailer drains. */
async function flood(sink: FileSink, total: number): Promise<void> {
  const burst = 2_000;
  for (let i = 0; i < total; i += burst) {
    sink.write(
      range(i, i + burst).map((n) => Buffer.from(`line ${n}`)),
      { time: T0 + i, instance: 0, stream: 'out' },
    );
    await tick();
  }
}

test('file sink: 1,000,000 lines through framer and rotation, each exactly once and in order', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'flood.log');
  const count = 1_000_000;
  const lineBytes = 100;
  // "00000042 xxx…x\n": the number first, padded to 100 bytes with its newline.
  const input = Buffer.alloc(count * lineBytes, 'x');
  for (let i = 0; i < count; i++) {
    const at = i * lineBytes;
    input.write(String(i).padStart(8, '0'), at, 'latin1');
    input[at + 8] = 0x20;
    input[at + lineBytes - 1] = 0x0a;
  }
  const maxSize = 1024 * 1024;
  const sink = openFileSink({ file, maxSize, keep: 1000 });
  const framer = createFramer();
  let seed = 42;
  const random = (): number => {
    // mulberry32: deterministic chunk sizes, so a failure reproduces.
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  let time = T0;
  for (let at = 0; at < input.length; ) {
    const size = 1 + Math.floor(random() * 65536);
    const chunk = input.subarray(at, at + size);
    at += chunk.length;
    sink.write(framer.push(chunk), { time: time++, instance: 0, stream: 'out' });
  }
  sink.write(framer.end(), { time, instance: 0, stream: 'out' });
  sink.close();

  const rotated = fs.readdirSync(dir).length - 1;
  assert.ok(rotated > 100, `expected many rotations, got ${rotated}`);
  let next = 0;
  for (let i = rotated; i >= 0; i--) {
    const name = i === 0 ? file : `${file}.${i}`;
    const bytes = fs.readFileSync(name);
    assert.ok(bytes.length <= maxSize, `${name} is ${bytes.length} bytes`);
    assert.equal(bytes[bytes.length - 1], 0x0a, `${name} ends inside a line`);
    // Prefix "2026-11-24T07:57:23.123Z 0 out " is 31 bytes; the number follows.
    for (let start = 0; start < bytes.length; ) {
      const end = bytes.indexOf(0x0a, start);
      assert.equal(end - start, 31 + lineBytes - 1, `line length in ${name} at ${start}`);
      const number = Number(bytes.toString('latin1', start + 31, start + 39));
      if (number !== next) assert.fail(`expected line ${next}, found ${number} in ${name}`);
      next++;
      start = end + 1;
    }
  }
  assert.equal(next, count);
});

test('compress: 300,000 lines at full speed, every kept line exactly once and in order', async (t) => {
  const file = path.join(tempDir(t), 'flood.log');
  const keep = 30;
  const maxSize = 512 * 1024; // ~26 rotations: everything stays within keep
  const sink = openFileSink({ file, maxSize, keep, compress: true });
  t.after(() => sink.close());
  const total = 300_000;
  for (let i = 0; i < total; i += 1000) {
    writeNumbered(sink, i, i + 1000);
    // One turn of the event loop per batch: compressions progress while rotations keep coming.
    if (i % 10_000 === 0) await tick();
  }
  await sink.settled();
  const kinds = layout(file, keep);
  const last = kinds.lastIndexOf('gz');
  assert.ok(last >= 20, `expected many compressed rotations: ${kinds.join(' ')}`);
  assert.deepEqual(kinds.slice(0, last + 1), ['plain', 'plain', ...Array<string>(last - 1).fill('gz')]);
  assert.ok(!fs.existsSync(compressTempName(file)), 'the temp file is gone');
  assertRun(chainNumbers(file, keep), 0, total);
  // Each .gz remembers the inode of the plain file it replaced (rotation-chain.ts finds it by that).
  const fd = fs.openSync(`${file}.2.gz`, 'r');
  t.after(() => fs.closeSync(fd));
  assert.ok((readGzipOrigin(fd) ?? 0) > 0);
});

test('compress: many rotations past keep, compressions dropped in flight, nothing doubled', async (t) => {
  const file = path.join(tempDir(t), 'drop.log');
  const keep = 4;
  const sink = openFileSink({ file, maxSize: 20 * LINE_BYTES, keep, compress: true });
  t.after(() => sink.close());
  const total = 20_000;
  for (let i = 0; i < total; i += 30) {
    writeNumbered(sink, i, Math.min(total, i + 30));
    if (i % 300 === 0) await tick();
  }
  await sink.settled();
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'gz', 'gz', 'gz', '-']);
  assertRun(chainNumbers(file, keep), total - 4 * 20 - 20, total);
});

test('followLogs: 200,000 lines across many rotations, each exactly once and in order', async (t) => {
  const file = path.join(tempDir(t), 'flood.log');
  const sink = openFileSink({ file, maxSize: 256 * 1024, keep: 4 });
  t.after(() => sink.close());
  const got = follow(t, file, 4);
  const total = 200_000;
  await flood(sink, total);
  await got.until(total);
  assert.equal(got.items.length, total);
  assertRun(numbers(got.items), 0, total);
  assert.ok(fs.existsSync(`${file}.4`), 'the writer rotated at least keep times');
});

test('followLogs: 200,000 lines across compressed rotations, each exactly once and in order', async (t) => {
  const file = path.join(tempDir(t), 'flood.log');
  const sink = openFileSink({ file, maxSize: 128 * 1024, keep: 6, compress: true });
  t.after(() => sink.close());
  const got = follow(t, file, 6);
  const total = 200_000;
  await flood(sink, total);
  await got.until(total);
  await sink.settled();
  assert.equal(got.items.length, total);
  assertRun(numbers(got.items), 0, total);
  assert.ok(fs.existsSync(`${file}.6.gz`), 'the writer rotated and compressed past keep');
});
