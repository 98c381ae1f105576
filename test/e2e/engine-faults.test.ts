// Engine faults found by fault injection, against the real bin: a command superseded by a later
// one still answers; racing requests all get an answer; a storm of reloads is coalesced and the
// engine keeps answering. (Policy on the monotonic clock is covered in src/engine/engine.test.ts
// with a fake clock: setting this machine's clock would disturb every other test.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { projectPaths } from '../../src/runtime/runtime-dir.js';
import { type Daemon, daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const slowService = `services:\n  web:\n    command: ${argv('slow-stop.mjs')}\n`;

async function up(d: Daemon): Promise<void> {
  const result = await d.tend(['up', '-d']);
  assert.equal(result.code, 0, `up -d: ${result.stdout}${result.stderr}`);
}

const phase = async (d: Daemon) => (await d.status()).units[0]?.phase;

/** A POST on the project's socket; resolves with the status code and body. */
function post(d: Daemon, route: string, body: object): Promise<{ status: number; body: string }> {
  const socketPath = projectPaths(path.join(fs.realpathSync(d.dir), 'tend.yaml'), d.env).socket;
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath, path: route, method: 'POST', headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

for (const [first, second, firstSays] of [
  ['stop', 'restart', /web\s+superseded by a later restart: running again \(pid \d+\)/],
  ['restart', 'stop', /web\s+superseded by a later stop: stopped/],
  ['stop', 'start', /web\s+superseded by a later start: running again \(pid \d+\)/],
] as const) {
  test(`a ${first} superseded by a ${second} while the service drains still answers, and says so`, async (t) => {
    const d = daemonProject(t, { 'tend.yaml': slowService });
    await up(d);
    const pending = d.tend([first, 'web']);
    await waitFor(async () => (await phase(d)) === 'stopping', { what: 'web to be stopping' });
    // Straight to the socket: it must arrive while the service drains (3 s), even on a busy machine.
    const later = await post(d, `/v1/${second}`, { services: ['web'] });
    assert.equal(later.status, 200, later.body);
    assert.equal((JSON.parse(later.body) as { results: Array<{ ok: boolean }> }).results[0]?.ok, true, later.body);
    const earlier = await pending;
    assert.equal(earlier.code, 1, 'it did not get what it asked for');
    assert.match(earlier.stdout, firstSays);
  });
}

test('61 racing requests on one draining service all get an answer', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': slowService });
  await up(d);
  const routes = ['/v1/stop', '/v1/restart', '/v1/start'];
  const answers = await Promise.all(Array.from({ length: 61 }, (_, i) => post(d, routes[i % 3] ?? '/v1/start', { services: ['web'] })));
  assert.equal(answers.length, 61);
  for (const answer of answers) {
    assert.equal(answer.status, 200, answer.body);
    assert.equal((JSON.parse(answer.body) as { results: unknown[] }).results.length, 1);
  }
});

test('a storm of reloads is coalesced: 1000 SIGHUPs and 100 concurrent reload requests, one engine that keeps answering', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n` });
  await up(d);
  const before = await d.status();
  const engine = before.engine.pid;
  for (let i = 0; i < 1000; i += 1) {
    process.kill(engine, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const answers = await Promise.all(Array.from({ length: 100 }, () => post(d, '/v1/reload', {})));
  for (const answer of answers) assert.equal(answer.status, 200, answer.body);
  const after = await d.status();
  assert.equal(after.engine.pid, engine, 'the engine was never replaced as hung');
  assert.equal(after.units[0]?.pid, before.units[0]?.pid, 'nothing changed, so nothing restarted');
  const engineLog = projectPaths(path.join(fs.realpathSync(d.dir), 'tend.yaml'), d.env).engineLog;
  await waitFor(() => /reloaded on SIGHUP/.test(fs.readFileSync(engineLog, 'utf8')), { what: 'a SIGHUP reload to complete' });
  const reported = fs.readFileSync(engineLog, 'utf8').match(/reloaded on SIGHUP/g)?.length ?? 0;
  assert.ok(reported < 1000, `${reported} reloads reported for 1000 signals: they were coalesced`);
});
