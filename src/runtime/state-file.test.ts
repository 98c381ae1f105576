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

const engine = { pid: 1, startTime: 10 };

test('the journal reads back as the latest map: snapshot, then appended changes', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, engine);
  journal.record({ 'web.0': { pid: 100, startTime: 5 }, 'web.1': { pid: 101, startTime: 6 } });
  journal.record({ 'web.0': { pid: 102, startTime: 7 } });
  journal.record({ 'web.1': null });
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 3, 'one snapshot, two appended lines');
  assert.deepEqual(readState(file), { engine, units: { 'web.0': { pid: 102, startTime: 7 } } });
});

test('a torn last line (killed mid-append) is skipped, the rest is kept', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, engine);
  journal.record({ a: { pid: 100, startTime: 5 } });
  journal.record({ b: { pid: 200, startTime: 6 } });
  fs.appendFileSync(file, '{"unit":"a","pro');
  assert.deepEqual(readState(file)?.units, { a: { pid: 100, startTime: 5 }, b: { pid: 200, startTime: 6 } });
});

test('many changes are compacted into a fresh snapshot', (t) => {
  const file = tempFile(t);
  const journal = createStateJournal(file, engine);
  for (let pid = 1; pid <= 1200; pid++) journal.record({ loop: { pid, startTime: pid } });
  assert.ok(fs.readFileSync(file, 'utf8').trim().split('\n').length <= 501);
  assert.deepEqual(readState(file)?.units, { loop: { pid: 1200, startTime: 1200 } });
});

test('a missing or foreign file reads as nothing to recover', (t) => {
  const file = tempFile(t);
  assert.equal(readState(file), null);
  fs.writeFileSync(file, 'not json\n');
  assert.equal(readState(file), null);
});
