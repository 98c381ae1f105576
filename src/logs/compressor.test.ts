import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import zlib from 'node:zlib';
import { compressTempName } from './chain-names.js';
import { openFileSink, parseLogLine, type FileSink } from './file-sink.js';

const T0 = Date.parse('2026-11-24T07:57:23.000Z');
// "line 0000123": every line is 24 + " 0 out " (7) + 12 + "\n" = 44 bytes.
const LINE_BYTES = 44;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-compress-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeNumbered(sink: FileSink, from: number, to: number): void {
  const lines: Buffer[] = [];
  for (let i = from; i < to; i++) lines.push(Buffer.from(`line ${String(i).padStart(7, '0')}`));
  sink.write(lines, { time: T0 + from, instance: 0, stream: 'out' });
}

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
  const numbers: number[] = [];
  for (let index = keep; index >= 0; index--) {
    const plain = index === 0 ? file : `${file}.${index}`;
    const gz = `${file}.${index}.gz`;
    let text: string;
    if (fs.existsSync(gz)) text = zlib.gunzipSync(fs.readFileSync(gz)).toString('utf8');
    else if (fs.existsSync(plain)) text = fs.readFileSync(plain, 'utf8');
    else continue;
    for (const line of text.split('\n').slice(0, -1)) numbers.push(Number(parseLogLine(line)?.text.slice(5)));
  }
  return numbers;
}

function assertRun(numbers: readonly number[], from: number, to: number): void {
  assert.equal(numbers.length, to - from, `expected lines ${from}…${to - 1}, got ${numbers.length} lines`);
  for (let i = 0; i < numbers.length; i++)
    if (numbers[i] !== from + i) assert.fail(`line ${i} of the chain is ${numbers[i]}, expected ${from + i}`);
}

test('compress: a rotation while a compression is in flight moves its source; the .gz lands where it went', async (t) => {
  const file = path.join(tempDir(t), 'flight.log');
  const keep = 5;
  const sink = openFileSink({ file, maxSize: 10 * LINE_BYTES, keep, compress: true });
  t.after(() => sink.close());
  writeNumbered(sink, 0, 30); // file.2 = 0-9, file.1 = 10-19, file = 20-29: compression of file.2 starts
  assert.ok(fs.existsSync(compressTempName(file)), 'the compression is in flight');
  writeNumbered(sink, 30, 40); // shifts it to file.3 before it completes
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'plain', 'plain', '-', '-', '-']);
  await sink.settled();
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'gz', 'gz', '-', '-', '-']);
  assertRun(chainNumbers(file, keep), 0, 40);
  // Dropped off the end while in flight (keep 2): abandoned, its temp removed, the next one done.
  const small = path.join(path.dirname(file), 'small.log');
  const other = openFileSink({ file: small, maxSize: 10 * LINE_BYTES, keep: 2, compress: true });
  t.after(() => other.close());
  writeNumbered(other, 0, 30);
  writeNumbered(other, 30, 40);
  await other.settled();
  assert.deepEqual(layout(small, 2), ['plain', 'plain', 'gz', '-']);
  assert.ok(!fs.existsSync(compressTempName(small)));
  assertRun(chainNumbers(small, 2), 10, 40);
});

test('compress: close() abandons a compression; the next sink finishes it once it writes', async (t) => {
  const file = path.join(tempDir(t), 'reopen.log');
  const keep = 5;
  const first = openFileSink({ file, maxSize: 10 * LINE_BYTES, keep, compress: true });
  writeNumbered(first, 0, 40);
  first.close();
  await first.settled();
  assert.ok(!fs.existsSync(compressTempName(file)));
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'plain', 'plain', '-', '-', '-']);
  // Opening alone touches nothing (the engine opens sinks the keeper writes to).
  const second = openFileSink({ file, maxSize: 10 * LINE_BYTES, keep, compress: true });
  t.after(() => second.close());
  await tick();
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'plain', 'plain', '-', '-', '-']);
  writeNumbered(second, 40, 41); // the current file was full: one more rotation
  await second.settled();
  assert.deepEqual(layout(file, keep), ['plain', 'plain', 'gz', 'gz', 'gz', '-', '-']);
  assertRun(chainNumbers(file, keep), 0, 41);
});

test('compress: off, or keep < 2, compresses nothing; a plain .N and leftover .N.gz both shift', (t) => {
  const dir = tempDir(t);
  const one = path.join(dir, 'one.log');
  const sink = openFileSink({ file: one, maxSize: 10 * LINE_BYTES, keep: 1, compress: true });
  writeNumbered(sink, 0, 30);
  sink.close();
  assert.deepEqual(layout(one, 1), ['plain', 'plain', '-']);
  // compress turned off later: the .gz files keep shifting and are deleted past keep.
  const mixed = path.join(dir, 'mixed.log');
  fs.writeFileSync(`${mixed}.2.gz`, zlib.gzipSync('x\n'));
  fs.writeFileSync(`${mixed}.3`, 'y\n');
  const plain = openFileSink({ file: mixed, maxSize: 10 * LINE_BYTES, keep: 3 });
  writeNumbered(plain, 0, 20);
  plain.close();
  assert.deepEqual(layout(mixed, 3), ['plain', 'plain', '-', 'gz', '-']);
});
