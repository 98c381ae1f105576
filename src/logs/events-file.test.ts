import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEventsFile } from './events-file.js';
import { TendError } from '../errors.js';

test('events file: one JSON line per record, appended across opens, directory created', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-events-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'sub', 'events.jsonl');
  const records = [{ type: 'spawned', unit: 'web.0', pid: 42 }, { type: 'note', text: 'two\nlines "quoted"' }, {}];
  const events = openEventsFile(file);
  events.append(records[0] ?? {});
  events.append(records[1] ?? {});
  events.close();
  events.close();
  assert.throws(() => events.append({}));
  const again = openEventsFile(file);
  again.append(records[2] ?? {});
  again.close();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(
    lines.map((line) => JSON.parse(line) as unknown),
    records,
  );
});

test('events file: an unusable path is a TendError TEND_LOG_DIR', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-events-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'plain-file'), '');
  assert.throws(
    () => openEventsFile(path.join(dir, 'plain-file', 'events.jsonl')),
    (error: unknown) => error instanceof TendError && error.code === 'TEND_LOG_DIR',
  );
});
