import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createStateJournal, readState } from './state-file.js';

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'state.json');
}

const holder = { pid: 1, startTime: 10 };
// spawned() records the window the child started in; this process stands in for a child.
const record = (units: Record<string, unknown> | undefined, unit: string) =>
  units?.[unit] as { pid: number; startTime: number; until: number } | undefined;
const inWindow = (value: { pid: number; startTime: number; until: number } | undefined) =>
  value !== undefined && value.pid === process.pid && value.until >= value.startTime && value.until - value.startTime < 100;

test('the journal reads back as the latest map: snapshot, then one appended line per change', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, holder);
  journal.spawning('web.0', '/srv');
  journal.spawned('web.0', process.pid);
  journal.spawning('web.1', '/srv');
  journal.spawned('web.1', process.pid);
  journal.gone('web.1');
  journal.gone('never-spawned'); // nothing to record
  journal.close();
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 5, 'one snapshot, four appended lines');
  const state = readState(file);
  assert.deepEqual(state?.holder, holder);
  assert.deepEqual(Object.keys(state?.units ?? {}), ['web.0']);
  assert.ok(inWindow(record(state?.units, 'web.0')), JSON.stringify(state));
});

test('an intent stays on record until its PID is written: a spawner killed inside spawn() is not forgotten', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, holder);
  journal.spawning('web.0', '/srv');
  const record = readState(file)?.units['web.0'];
  assert.ok(record && 'spawning' in record);
  assert.equal(record.spawning.cwd, '/srv');
  const now = Math.floor(Number(fs.readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 100);
  assert.ok(record.spawning.since <= now && record.spawning.since >= now - 100, 'since is "now" in clock ticks since boot');
  journal.close();
});

test('a torn last line (killed mid-append) is skipped, the rest is kept', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, holder);
  journal.spawned('a', process.pid);
  journal.spawned('b', process.pid);
  journal.close();
  fs.appendFileSync(file, '{"unit":"a","rec');
  const units = readState(file)?.units;
  assert.deepEqual(Object.keys(units ?? {}), ['a', 'b']);
  assert.ok(inWindow(record(units, 'a')) && inWindow(record(units, 'b')));
});

test('many changes are compacted into a fresh snapshot', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, holder);
  for (let i = 1; i <= 1200; i++) journal.spawned(i % 2 === 0 ? 'loop' : 'other', process.pid);
  journal.gone('other');
  journal.close();
  assert.ok(fs.readFileSync(file, 'utf8').trim().split('\n').length <= 501);
  assert.deepEqual(Object.keys(readState(file)?.units ?? {}), ['loop']);
});

test('remove() deletes the journal; a missing, foreign or linked file reads as nothing to recover', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, holder);
  journal.spawned('web.0', process.pid);
  journal.remove();
  assert.equal(fs.existsSync(file), false);
  assert.equal(readState(file), null);
  fs.writeFileSync(file, 'not json\n');
  assert.equal(readState(file), null);
  const real = `${file}.real`;
  fs.writeFileSync(real, `${JSON.stringify({ holder, units: { a: holder } })}\n`);
  fs.rmSync(file);
  fs.symlinkSync(real, file);
  assert.equal(readState(file), null, 'a symlink is not followed');
});

test('the journal of tend 0.1 (engine, process lines) still reads', (t) => {
  const file = tempFile(t);
  const one = { pid: 7, startTime: 70 };
  fs.writeFileSync(
    file,
    `${JSON.stringify({ engine: holder, units: { a: one } })}\n${JSON.stringify({ unit: 'b', process: one })}\n${JSON.stringify({ unit: 'a', process: null })}\n`,
  );
  assert.deepEqual(readState(file), { holder, units: { b: one } });
});

test('a write that fails is reported once and never thrown at the spawner', (t) => {
  const file = path.join(tempFile(t), 'no-such-dir', 'state.json');
  const warnings: string[] = [];
  const journal = createStateJournal(file, holder, (text) => warnings.push(text));
  journal.spawning('web.0', '/srv');
  journal.spawned('web.0', process.pid);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /could not be written .*ENOENT/);
});
