// `tend dashboard` against a real engine, at the HTTP level (the browser test is
// dashboard-browser.test.ts): the one-time login and its cookie, the page's guards (CSP, frames,
// Host, foreign origins and other localhost ports), the live stream, actions recorded as the
// dashboard's, the session listener that lives exactly as long as the command, `--open` without
// the code in any command line, and a configured api.listen that serves it for the engine's life.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import type { LiveItem } from '../../src/api/protocol.js';
import { openDashboard } from '../helpers/dashboard.js';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

/** fetch() will not send a Host header of our choosing: node:http will. */
function statusWithHost(origin: string, cookie: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}/v1/status`, { headers: { cookie, host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('error', reject);
  });
}

/** Logs in with a one-time URL; returns the origin and the Cookie header to send. */
async function login(url: string): Promise<{ origin: string; cookie: string; setCookie: string }> {
  const answer = await fetch(url, { redirect: 'manual' });
  assert.equal(answer.status, 303);
  assert.equal(answer.headers.get('location'), '/ui/');
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return { origin: new URL(url).origin, cookie: setCookie.split(';')[0] ?? '', setCookie };
}

test('dashboard: one-time login, guarded pages, a live stream, actions audited as the dashboard; the listener ends with the command', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  web:\n    command: ${argv('tick.mjs', '100')}\n  db:\n    command: ${argv('forever.mjs')}\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const run = await openDashboard(t, d);
  assert.match(run.url, /^http:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=[A-Za-z0-9_-]{43}$/);
  const { origin } = new URL(run.url);
  assert.equal((await fetch(`${origin}/ui/`)).status, 401, 'the page refuses a browser that has not logged in');
  assert.equal((await fetch(`${origin}/v1/status`)).status, 401);
  assert.equal((await fetch(`${origin}/ui/login?code=made-up`)).status, 401, 'a made-up code logs nobody in');

  const { cookie, setCookie } = await login(run.url);
  assert.match(setCookie, /^tend_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.equal((await fetch(run.url, { redirect: 'manual' })).status, 401, 'a code works once');

  const page = await fetch(`${origin}/ui/`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const html = await page.text();
  assert.match(html, /<script type="module" src="app.js"><\/script>/);
  assert.doesNotMatch(html, /<script>|<script type="module">|style="/, 'no inline script or style');
  for (const asset of ['app.js', 'style.css']) assert.equal((await fetch(`${origin}/ui/${asset}`, { headers: { cookie } })).status, 200);
  assert.equal((await fetch(`${origin}/ui/../package.json`, { headers: { cookie } })).status, 404);

  // A page on another port of this machine (another user's, say) is the same *site*: the cookie
  // would travel with its requests. Its Origin, or the browser's Sec-Fetch-Site, gives it away.
  const restart = (headers: Record<string, string>) =>
    fetch(`${origin}/v1/restart`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', ...headers },
      body: '{"services":["db"]}',
    });
  assert.equal((await restart({ origin: 'http://127.0.0.1:1' })).status, 403);
  assert.equal((await restart({ origin, 'sec-fetch-site': 'same-site' })).status, 403);
  assert.equal((await restart({})).status, 403, 'a change must say its origin');
  assert.equal(await statusWithHost(origin, cookie, 'evil.example'), 403, 'a name rebound to us is refused');
  const before = (await d.pids()).db;
  const answered = await restart({ origin, 'sec-fetch-site': 'same-origin' });
  assert.equal(answered.status, 200);
  const body = (await answered.json()) as { results: { label: string; ok: boolean; message: string }[] };
  assert.equal(body.results[0]?.ok, true);
  assert.notEqual((await d.pids()).db, before);
  await waitFor(async () => (await d.tend(['events', '-n', '20'])).stdout.includes('restart db (through the dashboard)'), {
    what: 'the audit trail names the dashboard',
  });

  // The live stream: a status first, events, and log lines as the service writes them.
  const controller = new AbortController();
  const stream = await fetch(`${origin}/v1/live?follow=1&logs=5&events=5&service=web`, { headers: { cookie }, signal: controller.signal });
  assert.equal(stream.status, 200);
  const reader = stream.body?.getReader();
  assert.ok(reader);
  const items: LiveItem[] = [];
  let pending = '';
  const decoder = new TextDecoder();
  await waitFor(
    async () => {
      const { value } = await reader.read();
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') items.push(JSON.parse(line) as LiveItem);
      const logs = items.filter((item) => 'log' in item);
      return items.some((item) => 'status' in item) && logs.length > 6;
    },
    { what: 'a status and live log lines on /v1/live' },
  );
  const first = items[0];
  assert.ok(first !== undefined && 'status' in first);
  assert.deepEqual(
    first.status.services?.map((s) => s.name),
    ['web', 'db'],
  );
  assert.ok(items.every((item) => !('log' in item) || item.log.service === 'web'));
  controller.abort();

  // Ctrl-C: the command ends, and with it the listener and every session it let in.
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0);
  assert.match(run.stderr(), /Dashboard closed/);
  await assert.rejects(fetch(`${origin}/v1/status`, { headers: { cookie } }));
  assert.equal((await d.tend(['info', '--json'])).stdout.includes('"tcp":null'), true, 'no listener is left open');
});

test('dashboard --open: the browser gets a private page, never the code on its command line', async (t) => {
  const d = daemonProject(t, { 'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n` });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const bin = path.join(d.dir, 'bin');
  const seen = path.join(d.dir, 'opened.txt');
  fs.mkdirSync(bin);
  // A stand-in browser opener: records its arguments and what the page it was given says.
  fs.writeFileSync(
    path.join(bin, 'xdg-open'),
    `#!/bin/sh\nprintf 'argv: %s\\n' "$*" > ${JSON.stringify(seen)}\ncat "\${1#file://}" >> ${JSON.stringify(seen)}\nls -l "\${1#file://}" >> ${JSON.stringify(seen)}\n`,
    { mode: 0o755 },
  );
  const run = await openDashboard(t, d, ['--open'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
  const opened = await waitFor(
    () => fs.existsSync(seen) && /-rw-------/.test(fs.readFileSync(seen, 'utf8')) && fs.readFileSync(seen, 'utf8'),
    {
      what: 'the opener to be run',
    },
  );
  const code = new URL(run.url).searchParams.get('code') ?? '';
  const [argvLine = ''] = opened.split('\n');
  assert.match(argvLine, /^argv: file:\/\/\S+\.html$/);
  assert.ok(!argvLine.includes(code), 'the code is not on the command line');
  assert.ok(opened.includes(`url=${run.url}`), 'the page redirects to the login URL');
});

test('dashboard with api.listen: served on that listener for the engine life; the command prints a URL and ends', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `api: { listen: "127.0.0.1:0" }\nservices:\n  web:\n    command: ${argv('forever.mjs')}\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const info = JSON.parse((await d.tend(['info', '--json'])).stdout) as { engine: { tcp: { port: number } } };
  const result = await d.tend(['dashboard']);
  assert.equal(result.code, 0, result.stderr);
  const url = result.stdout.trim();
  assert.equal(new URL(url).port, String(info.engine.tcp.port));
  const { origin, cookie } = await login(url);
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie } })).status, 200, 'still served after the command ended');
  // The bearer token opens the API, not a login: minting one is for the unix socket's user only.
  const token = fs.readFileSync(JSON.parse((await d.tend(['info', '--json'])).stdout).token, 'utf8').trim();
  const minted = await fetch(`${origin}/v1/dashboard`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(minted.status, 403);
});
