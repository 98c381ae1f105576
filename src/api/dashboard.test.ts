// The dashboard's logins and pages (dashboard.ts) and the TCP guard's rules for its cookie
// (tcp-guard.ts), on a real node:http server with a fake clock for expiry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { createDashboard } from './dashboard.js';
import { createTcpGuard } from './tcp-guard.js';

async function serve(t: TestContext, now: { ms: number }, authenticated = (cookie: string | undefined) => cookie !== undefined) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-ui-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
  fs.writeFileSync(path.join(dir, 'app.js'), `console.log(${JSON.stringify('x'.repeat(2000))});`);
  fs.writeFileSync(path.join(dir, 'style.css'), 'body{}');
  const dashboard = createDashboard(pathToFileURL(`${dir}/`), () => now.ms);
  const server = createServer((req, res) => {
    const url = new URL(`http://tend${req.url ?? '/'}`);
    dashboard.serve(req, url, res, authenticated(req.headers.cookie) && dashboard.hasSession(req.headers.cookie));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { dashboard, base };
}

test('a code logs in once, within 5 minutes; the cookie opens the page; 16 codes wait at most', async (t) => {
  const now = { ms: 1_000_000 };
  const { dashboard, base } = await serve(t, now);
  const code = dashboard.mint();
  const answer = await fetch(`${base}/ui/login?code=${code}`, { redirect: 'manual' });
  assert.equal(answer.status, 303);
  const cookie = (answer.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  assert.equal((await fetch(`${base}/ui/login?code=${code}`, { redirect: 'manual' })).status, 401, 'once');
  assert.equal((await fetch(`${base}/ui/`, { headers: { cookie } })).status, 200);
  assert.equal((await fetch(`${base}/ui/`, { headers: { cookie: 'tend_session=forged' } })).status, 401);

  const late = dashboard.mint();
  now.ms += 5 * 60_000;
  assert.equal((await fetch(`${base}/ui/login?code=${late}`, { redirect: 'manual' })).status, 401, 'expired');

  const codes = Array.from({ length: 17 }, () => dashboard.mint());
  assert.equal((await fetch(`${base}/ui/login?code=${codes[0]}`, { redirect: 'manual' })).status, 401, 'the oldest of 17 is forgotten');
  assert.equal((await fetch(`${base}/ui/login?code=${codes[16]}`, { redirect: 'manual' })).status, 303);
});

test('sessions end after 12 hours unused and past 32; clear() ends them all', async (t) => {
  const now = { ms: 0 };
  const { dashboard, base } = await serve(t, now);
  const login = async () => {
    const answer = await fetch(`${base}/ui/login?code=${dashboard.mint()}`, { redirect: 'manual' });
    return (answer.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  };
  const first = await login();
  now.ms += 11 * 3_600_000;
  assert.equal(dashboard.hasSession(first), true, 'used within 12 h: kept, and its clock starts again');
  now.ms += 11 * 3_600_000;
  assert.equal(dashboard.hasSession(first), true);
  now.ms += 12 * 3_600_000 + 1;
  assert.equal(dashboard.hasSession(first), false, 'unused for over 12 h');

  const sessions = [];
  for (let i = 0; i < 33; i += 1) sessions.push(await login());
  assert.equal(dashboard.hasSession(sessions[0]), false, 'the least recently used of 33 is gone');
  assert.equal(dashboard.hasSession(sessions[32]), true);
  dashboard.clear();
  assert.equal(dashboard.hasSession(sessions[32]), false);
});

test('the page files: a fixed list, gzipped when asked, with the CSP; anything else is not served', async (t) => {
  const now = { ms: 0 };
  const { dashboard, base } = await serve(t, now);
  const login = await fetch(`${base}/ui/login?code=${dashboard.mint()}`, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const js = await fetch(`${base}/ui/app.js`, { headers: { cookie, 'accept-encoding': 'gzip' } });
  assert.equal(js.headers.get('content-encoding'), 'gzip');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(await js.text(), /^console\.log/, 'fetch unzips it');
  assert.match(js.headers.get('content-security-policy') ?? '', /^default-src 'none'; script-src 'self';/);
  assert.equal(dashboard.owns('/ui/app.js'), true);
  assert.equal(dashboard.owns('/ui/../package.json'), false);
  assert.equal(dashboard.owns('/v1/status'), false);
  const root = await fetch(`${base}/`, { redirect: 'manual', headers: { cookie } });
  assert.equal(root.status, 303);
  assert.equal(root.headers.get('location'), '/ui/');
});

test('the guard: a session cookie is honoured only from the page itself; the token is checked first', () => {
  const guard = createTcpGuard({ host: '127.0.0.1', port: 7070, token: 'secret', hasSession: (cookie) => cookie === 'tend_session=ok' });
  const host = '127.0.0.1:7070';
  const origin = 'http://127.0.0.1:7070';
  const as = (method: string, headers: Record<string, string>) => {
    const who = guard.authenticate(method, { host, ...headers });
    return typeof who === 'string' ? who : who.code;
  };
  assert.equal(as('GET', { authorization: 'Bearer secret' }), 'tcp');
  assert.equal(
    as('GET', { authorization: 'Bearer wrong', cookie: 'tend_session=ok' }),
    'TEND_API_UNAUTHORIZED',
    'a wrong token is not saved by a cookie',
  );
  assert.equal(as('GET', { cookie: 'tend_session=ok' }), 'dashboard');
  assert.equal(as('GET', { cookie: 'tend_session=ok', 'sec-fetch-site': 'same-origin' }), 'dashboard');
  assert.equal(as('GET', { cookie: 'tend_session=ok', 'sec-fetch-site': 'none' }), 'dashboard', 'typed in the address bar');
  assert.equal(as('GET', { cookie: 'tend_session=ok', 'sec-fetch-site': 'same-site' }), 'TEND_API_FORBIDDEN', 'another port of this host');
  assert.equal(as('POST', { cookie: 'tend_session=ok' }), 'TEND_API_FORBIDDEN', 'a change without Origin');
  assert.equal(as('POST', { cookie: 'tend_session=ok', origin }), 'dashboard');
  assert.equal(as('GET', { cookie: 'tend_session=nope' }), 'TEND_API_UNAUTHORIZED');
  assert.equal(guard.admit({ host, origin: 'http://127.0.0.1:9999' })?.code, 'TEND_API_FORBIDDEN', 'another port is another origin');
  assert.equal(guard.admit({ host, origin }), null);
});
