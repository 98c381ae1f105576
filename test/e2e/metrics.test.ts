// GET /metrics against a real engine over TCP with the bearer token (as Prometheus's
// `authorization` config sends it): units, restarts by cause, probes, tend's own processes and the
// API's requests; refused without the token; and `promtool check metrics` (Debian's prometheus
// package, installed by .ci/run) accepts it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((file) => fs.existsSync(file));

test('/metrics over TCP with the bearer token: units, restarts by cause, probes, tend itself, the API; promtool accepts it', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `api: { listen: "127.0.0.1:0" }
services:
  web:
    command: ${argv('late-http.mjs', String(port), '0')}
    readiness: { http: "http://127.0.0.1:${port}/healthz", period: 200ms }
  crashy:
    command: ${argv('exit-with.mjs', '3')}
    restart: on-failure
    min_uptime: 0
    backoff: { initial: 50ms }
    start_limit: { burst: 2, interval: 60s }
`,
  });
  await d.tend(['up', '-d']);
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'crashy')?.phase === 'fatal', { what: 'crashy fatal' });
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'web')?.readiness?.state === 'ready', { what: 'web ready' });
  const info = JSON.parse((await d.tend(['info', '--json'])).stdout);
  const url = `http://127.0.0.1:${info.engine.tcp.port}/metrics`;
  const token = fs.readFileSync(info.token, 'utf8').trim();
  assert.equal((await fetch(url)).status, 401, 'no token, no metrics');
  const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await answer.text();
  assert.match(text, /^tend_unit_up\{service="web",instance="0"\} 1$/m);
  assert.match(text, /^tend_unit_up\{service="crashy",instance="0"\} 0$/m);
  assert.match(text, /^tend_unit_ready\{service="web",instance="0"\} 1$/m);
  assert.match(text, /^tend_unit_restarts_total\{service="crashy",instance="0",cause="crash"\} 1$/m);
  assert.match(text, /^tend_unit_last_exit_code\{service="crashy",instance="0"\} 3$/m);
  assert.match(text, /^tend_unit_memory_bytes\{service="web",instance="0"\} \d+$/m);
  // late-http.mjs says "listening on PORT" once; exit-with.mjs "exiting with 3" on each of its two runs.
  assert.match(text, /^tend_unit_log_lines_total\{service="web",instance="0"\} 1$/m);
  assert.match(text, /^tend_unit_log_lines_total\{service="crashy",instance="0"\} 2$/m);
  assert.match(text, /^tend_unit_log_bytes_total\{service="crashy",instance="0"\} 30$/m);
  assert.match(text, /^tend_probe_checks_total\{service="web",instance="0",probe="readiness",result="pass"\} \d+$/m);
  assert.match(text, /^tend_engine_cpu_seconds_total [\d.e-]+$/m);
  assert.match(text, /^tend_keeper_memory_bytes \d+$/m);
  assert.match(text, /^tend_engine_event_loop_lag_seconds [\d.e-]+$/m);
  assert.match(text, /^tend_api_requests_total\{route="metrics",status="401"\} 1$/m);
  if (promtool === undefined) {
    t.diagnostic('promtool is not installed here (.ci/run installs it): the format was checked by the patterns above only');
    return;
  }
  const checked = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
});
