import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openFileSink, parseLogLine } from './file-sink.js';
import { TendError } from '../errors.js';

const T0 = Date.parse('2026-11-24T07:57:23.123Z');
const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const read = (file: string): string => fs.readFileSync(file, 'utf8');

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-logs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('file sink: line format, directory created, appends across opens', (t) => {
  const file = path.join(tempDir(t), 'a', 'b', 'web.log');
  const sink = openFileSink({ file, maxSize: 0, keep: 0 });
  assert.equal(sink.path, file);
  sink.write([b('hello world'), b(''), b('é')], { time: T0, instance: 0, stream: 'out' });
  sink.write([b('boom')], { time: T0 + 1, instance: 12, stream: 'err' });
  sink.write([], { time: T0 + 2, instance: 0, stream: 'out' });
  sink.close();
  sink.close();
  assert.throws(() => sink.write([b('late')], { time: T0, instance: 0, stream: 'out' }));
  const again = openFileSink({ file, maxSize: 0, keep: 0 });
  again.write([b('next')], { time: T0, instance: 1, stream: 'out' });
  again.close();
  assert.equal(
    read(file),
    '2026-11-24T07:57:23.123Z 0 out hello world\n' +
      '2026-11-24T07:57:23.123Z 0 out \n' +
      '2026-11-24T07:57:23.123Z 0 out é\n' +
      '2026-11-24T07:57:23.124Z 12 err boom\n' +
      '2026-11-24T07:57:23.123Z 1 out next\n',
  );
});

test('parseLogLine: table', async (t) => {
  const cases: { line: string; want: ReturnType<typeof parseLogLine> }[] = [
    {
      line: '2026-11-24T07:57:23.123Z 0 out hello world',
      want: { time: '2026-11-24T07:57:23.123Z', instance: 0, stream: 'out', text: 'hello world' },
    },
    {
      line: '2026-11-24T07:57:23.123Z 3 err  two  spaces \n',
      want: { time: '2026-11-24T07:57:23.123Z', instance: 3, stream: 'err', text: ' two  spaces ' },
    },
    { line: '2026-11-24T07:57:23.123Z 0 out ', want: { time: '2026-11-24T07:57:23.123Z', instance: 0, stream: 'out', text: '' } },
    { line: '2026-11-24T07:57:23.123Z 0 out a\rb', want: { time: '2026-11-24T07:57:23.123Z', instance: 0, stream: 'out', text: 'a\rb' } },
    { line: '2026-11-24T07:57:23.123Z 0 out', want: null },
    { line: '2026-11-24T07:57:23.123Z 0 log hi', want: null },
    { line: '2026-11-24T07:57:23Z 0 out hi', want: null },
    { line: '2026-11-24T07:57:23.123Z -1 out hi', want: null },
    { line: 'hello', want: null },
    { line: '', want: null },
  ];
  for (const c of cases) {
    await t.test(JSON.stringify(c.line), () => assert.deepEqual(parseLogLine(c.line), c.want));
  }
});

test('file sink: what it writes, parseLogLine reads back', (t) => {
  const file = path.join(tempDir(t), 'svc.log');
  const sink = openFileSink({ file, maxSize: 0, keep: 0 });
  const texts = ['plain', '', '  spaced  ', 'tab\there', 'ünïcödé 😀'];
  sink.write(texts.map(b), { time: T0, instance: 7, stream: 'err' });
  sink.close();
  const parsed = read(file).split('\n').slice(0, -1).map(parseLogLine);
  assert.deepEqual(
    parsed.map((line) => line?.text),
    texts,
  );
  assert.ok(parsed.every((line) => line?.instance === 7 && line.stream === 'err' && line.time === '2026-11-24T07:57:23.123Z'));
});

test('file sink: rotates between whole lines, shifts .1 → .2 and drops the oldest', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'r.log');
  const sink = openFileSink({ file, maxSize: 100, keep: 2 });
  // Each line is 24 (time) + 1 + 1 + 1 + 3 + 1 + 10 + 1 = 42 bytes: two fit in 100, three do not.
  for (let i = 0; i < 7; i++) sink.write([b(`line-${String(i).padStart(5, '0')}`)], { time: T0, instance: 0, stream: 'out' });
  sink.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['r.log', 'r.log.1', 'r.log.2']);
  const texts = (name: string): string[] =>
    read(path.join(dir, name))
      .split('\n')
      .slice(0, -1)
      .map((line) => parseLogLine(line)?.text ?? '?');
  assert.deepEqual(texts('r.log.2'), ['line-00002', 'line-00003']);
  assert.deepEqual(texts('r.log.1'), ['line-00004', 'line-00005']);
  assert.deepEqual(texts('r.log'), ['line-00006']);
});

test('file sink: rotation inside one batch, and a line bigger than maxSize goes whole', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'big.log');
  const sink = openFileSink({ file, maxSize: 50, keep: 5 });
  sink.write([b('a'), b('x'.repeat(200)), b('b')], { time: T0, instance: 0, stream: 'out' });
  sink.close();
  const lines = (name: string): string[] =>
    read(path.join(dir, name))
      .split('\n')
      .slice(0, -1)
      .map((line) => parseLogLine(line)?.text ?? '?');
  assert.deepEqual(lines('big.log.2'), ['a']);
  assert.deepEqual(lines('big.log.1'), ['x'.repeat(200)]);
  assert.deepEqual(lines('big.log'), ['b']);
});

test('file sink: keep 0 starts the file over', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'k0.log');
  const sink = openFileSink({ file, maxSize: 100, keep: 0 });
  for (const text of ['one', 'two', 'three']) sink.write([b(text.padEnd(40, '.'))], { time: T0, instance: 0, stream: 'out' });
  sink.close();
  assert.deepEqual(fs.readdirSync(dir), ['k0.log']);
  assert.match(read(file), /^\S+ 0 out three\.+\n$/);
});

test('file sink: counts what an existing file already holds', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.log');
  fs.writeFileSync(file, `${'x'.repeat(90)}\n`);
  const sink = openFileSink({ file, maxSize: 100, keep: 1 });
  sink.write([b('new')], { time: T0, instance: 0, stream: 'out' });
  sink.close();
  assert.equal(read(`${file}.1`), `${'x'.repeat(90)}\n`);
  assert.equal(parseLogLine(read(file))?.text, 'new');
});

test('file sink: a failed rotation keeps every line in the current file and is reported once', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'stuck.log');
  fs.mkdirSync(`${file}.1`);
  fs.writeFileSync(path.join(`${file}.1`, 'blocker'), '');
  const errors: TendError[] = [];
  const sink = openFileSink({ file, maxSize: 100, keep: 1, onRotateError: (error) => errors.push(error) });
  for (let i = 0; i < 4; i++) sink.write([b(`n${i}`)], { time: T0, instance: 0, stream: 'out' });
  sink.close();
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'TEND_LOG_DIR');
  assert.deepEqual(
    read(file)
      .split('\n')
      .slice(0, -1)
      .map((line) => parseLogLine(line)?.text),
    ['n0', 'n1', 'n2', 'n3'],
  );
});

test('file sink: an unusable path is a TendError TEND_LOG_DIR', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'plain-file'), '');
  assert.throws(
    () => openFileSink({ file: path.join(dir, 'plain-file', 'web.log'), maxSize: 0, keep: 0 }),
    (error: unknown) => error instanceof TendError && error.code === 'TEND_LOG_DIR' && error.message.includes('plain-file'),
  );
});
