// No way in through the log files or the runtime directory: tend (as root here) refuses a log
// directory another user could change, never writes, compresses or reads a file through a link
// planted in its place, and keeps what it writes private unless the config widens it.
// "Another user" is a uid with no account (12345): as root, chown makes its files; without root
// these tests are skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

const OTHER = 12345;
const skip = process.geteuid?.() === 0 ? false : 'needs root, to make files of another uid';
const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const mode = (file: string) => (fs.lstatSync(file).mode & 0o7777).toString(8);

/** A file only root can read, standing for /root/secret. */
function secret(dir: string): string {
  const file = path.join(dir, 'secret');
  fs.writeFileSync(file, 'TOP SECRET\n', { mode: 0o600 });
  return file;
}

test("a log_dir in another user's directory, or writable by others, is refused at check and at up, before anything starts", {
  skip,
}, async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `log_dir: theirs/logs\nservices:\n  web:\n    command: ${argv('forever.mjs')}\n` });
  const theirs = path.join(d.dir, 'theirs');
  fs.mkdirSync(theirs);
  fs.chownSync(theirs, OTHER, OTHER);
  const check = await d.tend(['check']);
  assert.equal(check.code, 1);
  assert.match(
    check.stderr,
    /^tend: refusing to use a log file or directory another user could tamper with: .*theirs\/logs: .*theirs belongs to uid 12345\n {2}hint: keep logs where only you/m,
  );
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 1, up.stdout);
  assert.match(up.stderr, /theirs belongs to uid 12345/);
  assert.equal(fs.existsSync(path.join(theirs, 'logs')), false, 'nothing was created in there');
  assert.equal((await d.tend(['ps'])).code, 3, 'nothing runs');

  fs.chownSync(theirs, 0, 0);
  fs.chmodSync(theirs, 0o777); // world-writable without the sticky bit
  const open = await d.tend(['up', '-d']);
  assert.equal(open.code, 1);
  assert.match(open.stderr, /theirs can be written by other users \(mode 777\)/);
});

test('log files, rotated and temporary files are never opened through a planted link; read-back refuses links', { skip }, async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  web:\n    command: ${argv('flood.mjs', '3000')}\n    restart: never\n    logs: { max_size: 20K, keep: 5, compress: true }\n  quiet:\n    command: ${argv('forever.mjs')}\n`,
  });
  const logs = path.join(d.dir, '.tend', 'logs');
  fs.mkdirSync(logs, { recursive: true, mode: 0o700 });
  const target = secret(d.dir);
  const victim = path.join(d.dir, 'victim');
  fs.writeFileSync(victim, 'untouched\n');
  fs.symlinkSync(target, path.join(logs, 'web.log.3')); // would be gzipped and published
  fs.symlinkSync(victim, path.join(logs, '.web.log.gz.tmp')); // would be overwritten with gzip data
  fs.symlinkSync(victim, path.join(logs, 'quiet.log')); // would get quiet's output appended
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  await waitFor(() => fs.existsSync(path.join(logs, 'web.log.5.gz')), { what: 'rotations and compressions', timeoutMs: 30_000 });
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'web')?.phase === 'exited', { what: 'web to finish' });
  assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched\n');
  assert.equal(fs.readFileSync(target, 'utf8'), 'TOP SECRET\n');
  for (const name of fs.readdirSync(logs)) {
    const file = path.join(logs, name);
    if (!fs.lstatSync(file).isSymbolicLink())
      assert.doesNotMatch(fs.readFileSync(file, 'latin1'), /TOP SECRET/, `${name} holds the secret`);
  }
  const runtime = path.join(d.env.TEND_RUNTIME_DIR ?? '', fs.readdirSync(d.env.TEND_RUNTIME_DIR ?? '')[0] ?? '');
  assert.match(fs.readFileSync(path.join(runtime, 'engine.log'), 'utf8'), /quiet\.log is a symbolic link: refused/);
  // Read-back: a link where a rotated file should be is refused, its target never printed.
  fs.rmSync(path.join(logs, 'web.log.1'));
  fs.symlinkSync(target, path.join(logs, 'web.log.1'));
  const read = await d.tend(['logs', 'web', '-n', '100000']);
  assert.doesNotMatch(read.stdout + read.stderr, /TOP SECRET/);
  assert.match(read.stderr, /web\.log\.1 is a symbolic link: refused/);
});

test('files tend writes are 0600 in 0700 directories; logs.mode and logs.group widen read access only', { skip }, async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n  shipped:\n    command: ${argv('forever.mjs')}\n    logs: { file: shipped/shipped.log, mode: "0640", group: 4 }\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const logs = path.join(d.dir, '.tend', 'logs');
  await waitFor(() => fs.existsSync(path.join(logs, 'web.log')) && fs.existsSync(path.join(d.dir, 'shipped', 'shipped.log')), {
    what: 'the log files',
  });
  assert.equal(mode(path.join(d.dir, '.tend')), '700');
  assert.equal(mode(logs), '700');
  assert.equal(mode(path.join(logs, 'web.log')), '600');
  assert.equal(mode(path.join(logs, 'events.jsonl')), '600');
  assert.equal(mode(path.join(d.dir, 'shipped')), '750');
  assert.equal(mode(path.join(d.dir, 'shipped', 'shipped.log')), '640');
  assert.equal(fs.statSync(path.join(d.dir, 'shipped', 'shipped.log')).gid, 4);
  const runtime = path.join(d.env.TEND_RUNTIME_DIR ?? '', fs.readdirSync(d.env.TEND_RUNTIME_DIR ?? '')[0] ?? '');
  for (const name of fs.readdirSync(runtime)) {
    const file = path.join(runtime, name);
    if (fs.lstatSync(file).isFile()) assert.equal(mode(file), '600', name);
  }
  const bad = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n    logs: { mode: "0666" }\n` });
  const check = await bad.tend(['check']);
  assert.equal(check.code, 2);
  assert.match(
    check.stderr,
    /services\.web\.logs\.mode: expected "0600", "0640" or "0644" \(log files may be made readable, never writable by others\), got "0666"/,
  );
});

test('a link planted at engine.log or api.token in the runtime directory is refused, never written through', { skip }, async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `api: { listen: "127.0.0.1:0" }\nservices:\n  web:\n    command: ${argv('forever.mjs')}\n` });
  const victim = path.join(d.dir, 'victim');
  fs.writeFileSync(victim, 'untouched\n');
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  assert.equal((await d.tend(['down'])).code, 0);
  const runtime = path.join(d.env.TEND_RUNTIME_DIR ?? '', fs.readdirSync(d.env.TEND_RUNTIME_DIR ?? '')[0] ?? '');
  for (const name of ['engine.log', 'api.token']) {
    fs.rmSync(path.join(runtime, name), { force: true });
    fs.symlinkSync(victim, path.join(runtime, name));
    const up = await d.tend(['up', '-d']);
    assert.equal(up.code, 1, up.stdout);
    assert.match(up.stderr, new RegExp(`${name.replace('.', '\\.')} is a symbolic link: refused`));
    assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched\n');
    fs.rmSync(path.join(runtime, name));
  }
});

test('a full disk loses lines visibly: a marker in the log when writing resumes, an event, and the count in ps', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const count = 20_000;
  // A 2 MiB file system of its own, outside the project (unmounted before anything removes it).
  const small = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-small-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', small]);
  if (mounted.status !== 0) {
    fs.rmdirSync(small);
    return t.skip(`cannot mount a small tmpfs here: ${mounted.stderr.toString().trim()}`);
  }
  const d = daemonProject(t, {
    'tend.yaml': `log_dir: ${small}\nservices:\n  writer:\n    command: ${argv('paced-flood.mjs', String(count), '20')}\n    restart: never\n    logs: { max_size: 1G }\n`,
  });
  t.after(async () => {
    await d.tend(['down']);
    spawnSync('umount', ['-l', small]);
    fs.rmdirSync(small);
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const log = path.join(small, 'writer.log');
  await waitFor(() => fs.existsSync(log) && fs.statSync(log).size > 20_000, { what: 'the writer to be writing' });
  // Fill the disk for two seconds, then make room again.
  const filler = path.join(small, 'filler');
  try {
    fs.writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
  } catch {
    // ENOSPC: full, as meant
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  fs.rmSync(filler);
  await waitFor(() => fs.readFileSync(log, 'latin1').includes(' err done'), { what: 'the writer to finish', timeoutMs: 60_000 });
  const text = fs.readFileSync(log, 'latin1');
  // One marker per stretch of loss (room freed by taking back a torn write may let a line through).
  const markers = [...text.matchAll(/ err \[tend\] (\d+) lines \((\d+) bytes\) of output lost: no space left on device$/gm)];
  assert.ok(markers.length > 0, 'a marker line says what was lost');
  const lost = markers.reduce((sum, m) => sum + Number(m[1]), 0);
  const lostBytes = markers.reduce((sum, m) => sum + Number(m[2]), 0);
  const kept = [...text.matchAll(/ 0 out line (\d{9}) /g)].length;
  assert.ok(lost > 0);
  assert.equal(kept + lost, count, `${kept} lines kept + ${lost} lost = every line written`);
  // events.jsonl shares the full disk: events refused by it are kept and written once there is room.
  const reportedLoss = async () => {
    const events = (await d.tend(['events', '--json', '-n', '1000'])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; lines?: number; ended?: boolean });
    return events.filter((e) => e.kind === 'log-lost' && e.ended === true).reduce((sum, e) => sum + (e.lines ?? 0), 0);
  };
  await waitFor(async () => (await reportedLoss()) === lost, { what: `events with the totals of each stretch (${lost} lines)` });
  const unit = (await d.status()).units[0];
  assert.equal(unit?.lostLines, lost);
  assert.equal(unit?.lostBytes, lostBytes);
});
