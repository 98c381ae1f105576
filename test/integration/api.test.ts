// The control API end to end, without an engine: a fake Control behind the real server, reached
// by the real client over a unix socket in a temp dir, and by raw HTTP for what the client never
// sends (bad JSON, foreign Host, no token). Spawns no processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createClient, type ForeignCodeError } from '../../src/api/client.js';
import type { ActionResponse, Control, EventRecord, Feed, LogQuery, LogRecord, StatusResponse } from '../../src/api/protocol.js';
import { createFollowBudget } from '../../src/api/stream.js';
import { startApiServer, type ApiServerOptions } from '../../src/api/server.js';
import { TendError } from '../../src/errors.js';
import { deferred } from '../../src/lib/deferred.js';
import { waitFor } from '../helpers/wait-for.js';

const status: StatusResponse = {
  engine: {
    pid: 1,
    keeperPid: null,
    version: '0.0.0',
    protocol: 1,
    configFile: '/p/tend.yaml',
    logDir: '/p/.tend/logs',
    startedAt: '2026-01-01T00:00:00.000Z',
    containment: 'process-group',
    cgroupRoot: null,
  },
  units: [],
};
const answer = (unit: string): ActionResponse => ({
  results: [{ unit, label: unit, phase: 'running', pid: 42, ok: true, message: 'started (pid 42)' }],
});
const log = (line: string): LogRecord => ({
  time: '2026-01-01T00:00:00.000Z',
  service: 'web',
  instance: 0,
  unit: 'web.0',
  label: 'web',
  stream: 'out',
  line,
});
const event = (kind: 'stopped', time = 't'): EventRecord => ({
  time,
  kind,
  forced: false,
  service: 'web',
  instance: 0,
  unit: 'web.0',
  label: 'web',
});

/** A live feed the test drives: who subscribed, push and end, and whether it was unsubscribed. */
function liveFeed<T>(snapshot: T[]) {
  const subscribed = deferred<{ push: (item: T) => void; end: () => void }>();
  const unsubscribed = deferred<void>();
  const feed: Feed<T> = {
    snapshot,
    follow: (push, end) => {
      subscribed.resolve({ push, end });
      return { stop: () => unsubscribed.resolve() };
    },
  };
  return { feed, subscribed: subscribed.promise, unsubscribed: unsubscribed.promise };
}

function fakeControl(overrides: Partial<Control> = {}) {
  const calls: Array<[string, unknown]> = [];
  const record =
    <R>(name: string, result: R) =>
    async (arg?: unknown): Promise<R> => (calls.push([name, arg]), result);
  const control: Control = {
    status: record('status', status),
    statusFeed: async (query) => (calls.push(['statusFeed', query]), { snapshot: [status] }),
    usage: async (query) => (calls.push(['usage', query]), { snapshot: [{ at: 1, units: { 'web.0': [1.5, 1024] } }] }),
    start: record('start', answer('start')),
    stop: record('stop', answer('stop')),
    restart: record('restart', answer('restart')),
    signal: record('signal', answer('signal')),
    scale: record('scale', answer('scale')),
    reload: record('reload', { started: ['a'], stopped: [], restarted: [], scaled: [], updated: [], unchanged: ['b'] }),
    down: record('down', { ...answer('down'), engine: status.engine }),
    upgrade: record('upgrade', answer('upgrade')),
    logs: async (query) => (calls.push(['logs', query]), { snapshot: [log('one'), log('two')] }),
    events: async (query) => (calls.push(['events', query]), { snapshot: [event('stopped')] }),
    metrics: async () =>
      '# HELP tend_unit_up Whether the instance runs.\n# TYPE tend_unit_up gauge\ntend_unit_up{service="web",instance="0"} 1\n',
    ...overrides,
  };
  return { control, calls };
}

async function serve(t: TestContext, options: Partial<ApiServerOptions> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-api-'));
  const socketPath = path.join(dir, 'engine.sock');
  const fake = fakeControl();
  const server = await startApiServer({ control: fake.control, socketPath, ...options });
  t.after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { ...fake, server, socketPath, dir, client: createClient({ socketPath }) };
}

interface Raw {
  socketPath?: string;
  port?: number;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One HTTP request exactly as given: status, headers and the parsed JSON body (first line of NDJSON). */
function raw({ socketPath, port, method = 'GET', path: target, headers = {}, body }: Raw) {
  const where = socketPath === undefined ? { host: '127.0.0.1', port } : { socketPath };
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: { error?: { code: string; message: string } };
  }>((resolve, reject) => {
    const req = request({ ...where, method, path: target, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text.split('\n')[0] ?? '') })); // NDJSON: the first line
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('every route round-trips through server and client over the unix socket', async (t) => {
  const onDown = deferred<void>();
  const { client, calls } = await serve(t, { onDown: () => onDown.resolve() });
  assert.deepEqual(await client.status(), status);
  assert.deepEqual(await client.start({ services: ['web'] }), answer('start'));
  assert.deepEqual(await client.stop({ services: [], all: true }), answer('stop'));
  assert.deepEqual(await client.restart({ services: ['web.1'] }), answer('restart'));
  assert.deepEqual(await client.signal({ services: ['web'], signal: 'HUP' }), answer('signal'));
  assert.deepEqual(await client.scale({ service: 'web', instances: 3 }), answer('scale'));
  assert.deepEqual(await client.reload(), { started: ['a'], stopped: [], restarted: [], scaled: [], updated: [], unchanged: ['b'] });
  await client.reload({ dryRun: true });
  const logs: LogRecord[] = [];
  await client.logs({ services: ['web', 'db'], lines: 7, since: 1_700_000_000_000, follow: false }, (r) => logs.push(r));
  assert.deepEqual(logs, [log('one'), log('two')]);
  const events: EventRecord[] = [];
  await client.events({ lines: 5, follow: false }, (r) => events.push(r));
  assert.deepEqual(events, [event('stopped')]);
  assert.deepEqual(await client.down(), { ...answer('down'), engine: status.engine });
  await onDown.promise; // called once the answer to down was flushed
  assert.deepEqual(calls, [
    ['status', undefined],
    ['start', { services: ['web'] }],
    ['stop', { services: [], all: true }],
    ['restart', { services: ['web.1'] }],
    ['signal', { services: ['web'], signal: 'HUP' }],
    ['scale', { service: 'web', instances: 3 }],
    ['reload', {}],
    ['reload', { dryRun: true }],
    ['logs', { services: ['web', 'db'], lines: 7, since: 1_700_000_000_000, follow: false }],
    ['events', { lines: 5, follow: false }],
    ['down', undefined],
  ]);
});

test('the socket is mode 0600; query defaults are 100 log lines and 50 events; since takes ISO', async (t) => {
  const { socketPath, calls } = await serve(t);
  const stat = fs.statSync(socketPath);
  assert.ok(stat.isSocket());
  assert.equal(stat.mode & 0o777, 0o600);
  await raw({ socketPath, path: '/v1/logs?since=2026-01-01T00:00:00Z' });
  await raw({ socketPath, path: '/v1/events' });
  assert.deepEqual(calls, [
    ['logs', { services: [], lines: 100, follow: false, since: Date.parse('2026-01-01T00:00:00Z') }],
    ['events', { lines: 50, follow: false }],
  ]);
});

test('a TendError from the control comes back as the same TendError; a bug as TEND_INTERNAL', async (t) => {
  const { socketPath } = await serve(t);
  const thrown = new TendError('TEND_RELOAD_REJECTED', '2 problem(s)', {
    hint: 'fix them',
    details: ['tend.yaml:3:5: bad', 'tend.yaml:9:1: worse'],
  });
  const dir = path.dirname(socketPath);
  const other = path.join(dir, 'other.sock');
  const { control } = fakeControl({
    reload: async () => Promise.reject(thrown),
    status: async () => Promise.reject(new RangeError('oops')),
  });
  const server = await startApiServer({ control, socketPath: other });
  t.after(() => server.close());
  const client = createClient({ socketPath: other });
  await assert.rejects(client.reload(), (error: unknown) => {
    assert.ok(error instanceof TendError);
    assert.deepEqual(
      [error.code, error.message, error.hint, error.details, error.exitCode],
      [thrown.code, thrown.message, 'fix them', thrown.details, 2],
    );
    return true;
  });
  await assert.rejects(
    client.status(),
    (error: ForeignCodeError) => error.code === 'TEND_INTERNAL' && error.message === 'oops' && !(error instanceof TendError),
  );
  const { status: code, body } = await raw({ socketPath: other, path: '/v1/status' });
  assert.equal(code, 500);
  assert.deepEqual(body, { error: { code: 'TEND_INTERNAL', message: 'oops' } });
});

test('bad JSON or a wrong shape → 400; unknown route → 404; wrong method → 405 with Allow', async (t) => {
  const { socketPath, calls } = await serve(t);
  const post = (target: string, body: string) =>
    raw({ socketPath, method: 'POST', path: target, body, headers: { 'content-type': 'application/json' } });
  for (const [target, body, message] of [
    ['/v1/start', '{"services": [', 'bad request: the request body is not valid JSON'],
    ['/v1/start', '["web"]', 'bad request: the request body must be a JSON object'],
    ['/v1/start', '{"services": "web"}', 'bad request: "services" must be a list of service names'],
    ['/v1/scale', '{"service": "web", "instances": "3"}', 'bad request: "instances" must be a number'],
    ['/v1/start', 'x'.repeat(70_000), 'bad request: the request body is larger than 64 KiB'],
  ] as const) {
    const answer = await post(target, body);
    assert.equal(answer.status, 400, message);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(answer.body.error, { code: 'TEND_API_BAD_REQUEST', message });
  }
  const lines = await raw({ socketPath, path: '/v1/logs?lines=many' });
  assert.deepEqual([lines.status, lines.body.error?.message], [400, 'bad request: "lines" must be a whole number, got "many"']);
  const missing = await raw({ socketPath, path: '/v2/status' });
  assert.deepEqual([missing.status, missing.body.error?.code], [404, 'TEND_API_NOT_FOUND']);
  const wrong = await raw({ socketPath, method: 'DELETE', path: '/v1/status' });
  assert.deepEqual([wrong.status, wrong.headers.allow, wrong.body.error?.code], [405, 'GET', 'TEND_API_NOT_FOUND']);
  assert.deepEqual(calls, [], 'nothing reached the control');
});

test('logs follow: snapshot, then live lines; the server unsubscribes when the client aborts', async (t) => {
  const live = liveFeed([log('old')]);
  let asked: LogQuery | undefined;
  const { client } = await serve(t, { control: fakeControl({ logs: async (query) => ((asked = query), live.feed) }).control });
  const seen: string[] = [];
  const abort = new AbortController();
  const done = client.logs({ services: ['web'], lines: 1, follow: true }, (r) => seen.push(r.line), abort.signal);
  const { push } = await live.subscribed;
  push(log('new 1'));
  push(log('new 2'));
  await waitFor(() => seen.length === 3, { what: 'three lines', seen: () => seen.join('\n') });
  assert.deepEqual(seen, ['old', 'new 1', 'new 2']);
  assert.deepEqual(asked, { services: ['web'], lines: 1, follow: true });
  abort.abort();
  await done; // an abort is how a follow ends from the client's side: no error
  await live.unsubscribed;
});

test('a follow ends cleanly when the engine ends the feed, and when the server closes', async (t) => {
  const first = liveFeed<EventRecord>([]);
  const { client, server } = await serve(t, { control: fakeControl({ events: async () => first.feed }).control });
  const seen: EventRecord[] = [];
  const ended = client.events({ lines: 0, follow: true }, (r) => seen.push(r));
  (await first.subscribed).push(event('stopped'));
  (await first.subscribed).end();
  await ended;
  assert.deepEqual(seen, [event('stopped')]);
  await first.unsubscribed;

  const second = liveFeed<LogRecord>([]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-api-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const other = await startApiServer({ control: fakeControl({ logs: async () => second.feed }).control, socketPath: path.join(dir, 's') });
  const following = createClient({ socketPath: path.join(dir, 's') }).logs({ services: [], lines: 0, follow: true }, () => {});
  await second.subscribed;
  await other.close();
  await following;
  await second.unsubscribed;
  await server.close(); // twice is harmless (t.after closes it again)
});

test('down may close the server before it answers (as the engine does): the answer still arrives, then onDown', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-api-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'engine.sock');
  const onDown = deferred<void>();
  const control = fakeControl({ down: async () => (await server.close(), { ...answer('down'), engine: status.engine }) }).control;
  const server = await startApiServer({ control, socketPath, onDown: () => onDown.resolve() });
  assert.deepEqual(await createClient({ socketPath }).down(), { ...answer('down'), engine: status.engine });
  await onDown.promise;
  assert.equal(fs.existsSync(socketPath), false, 'the closed listener no longer takes connections');
});

test('a reader that falls too far behind is dropped with a last TEND_API_SLOW_READER line', async (t) => {
  const live = liveFeed<LogRecord>([]);
  const { socketPath } = await serve(t, {
    control: fakeControl({ logs: async () => live.feed }).control,
    followBudget: createFollowBudget(64 * 1024),
  });
  const socket = connect(socketPath);
  t.after(() => socket.destroy());
  socket.write('GET /v1/logs?follow=1 HTTP/1.0\r\nHost: tend\r\n\r\n');
  socket.pause(); // read nothing: the kernel buffer fills, then the server's
  const { push } = await live.subscribed;
  let unsubscribed = false;
  void live.unsubscribed.then(() => (unsubscribed = true));
  const line = 'x'.repeat(1024);
  for (let i = 0; i < 20_000 && !unsubscribed; i++) {
    push(log(line));
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await live.unsubscribed;
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  await new Promise((resolve) => socket.once('end', resolve).resume());
  const last = text.trimEnd().split('\n').at(-1) ?? '';
  assert.match(last, /"code":"TEND_API_SLOW_READER"/);
});

test('a reader that falls behind a source that can wait pauses it, and resumes it once it caught up: nothing is dropped', async (t) => {
  const subscribed = deferred<(item: LogRecord) => void>();
  const state = { paused: 0, resumed: 0, isPaused: false };
  const feed: Feed<LogRecord> = {
    snapshot: [],
    follow: (push) => {
      subscribed.resolve(push);
      return {
        stop: () => {},
        pause: () => ((state.paused += 1), (state.isPaused = true)),
        resume: () => ((state.resumed += 1), (state.isPaused = false)),
      };
    },
  };
  const { socketPath } = await serve(t, {
    control: fakeControl({ logs: async () => feed }).control,
    followBudget: createFollowBudget(64 * 1024 * 1024),
  });
  const socket = connect(socketPath);
  t.after(() => socket.destroy());
  socket.write('GET /v1/logs?follow=1 HTTP/1.0\r\nHost: tend\r\n\r\n');
  socket.pause();
  const push = await subscribed.promise;
  const line = 'x'.repeat(1024);
  let sent = 0;
  // Push as a file would: only while not paused.
  while (!state.isPaused && sent < 100_000) {
    push(log(line));
    sent += 1;
    if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(state.paused, 1, 'the source was paused');
  assert.ok(sent < 2000, `paused after ${sent} lines (a few hundred KiB), not after the whole budget`);
  let received = 0;
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk.split('\n').length - 1));
  socket.resume();
  // The source is resumed once the server's buffer drains, which may be before this side has
  // seen the bytes (they sit in the socket): wait for both facts.
  await waitFor(() => state.resumed === 1 && received > 0, {
    what: 'the source to be resumed and lines to arrive',
    seen: () => `resumed ${state.resumed}, lines ${received}`,
  });
  assert.doesNotMatch(String(received), /SLOW_READER/);
});

test('followers share one budget and are capped: one more than the cap is refused TEND_API_BUSY, and a stalled one frees its place', async (t) => {
  const feeds: Array<ReturnType<typeof liveFeed<LogRecord>>> = [];
  const control = fakeControl({
    logs: async () => (feeds.push(liveFeed<LogRecord>([])), (feeds.at(-1) as ReturnType<typeof liveFeed<LogRecord>>).feed),
  }).control;
  const { socketPath } = await serve(t, { control, followBudget: createFollowBudget(1024 * 1024, 3) });
  const sockets = Array.from({ length: 3 }, () => {
    const socket = connect(socketPath);
    t.after(() => socket.destroy());
    socket.write('GET /v1/logs?follow=1 HTTP/1.0\r\nHost: tend\r\n\r\n');
    return socket;
  });
  await waitFor(() => feeds.length === 3, { what: 'three followers' });
  await Promise.all(feeds.map((f) => f.subscribed));
  await assert.rejects(
    createClient({ socketPath }).logs({ services: [], lines: 0, follow: true }, () => {}),
    { code: 'TEND_API_BUSY' },
  );
  sockets[0]?.destroy();
  await feeds[0]?.unsubscribed;
  const fourth = connect(socketPath);
  t.after(() => fourth.destroy());
  fourth.write('GET /v1/logs?follow=1 HTTP/1.0\r\nHost: tend\r\n\r\n');
  await waitFor(() => feeds.length === 4, { what: 'a fourth follower once one left' });
  await feeds[3]?.subscribed;
});

test('client: no socket or a dead one → TEND_NO_ENGINE naming the config file; a taken socket path refuses to start', async (t) => {
  const { dir, socketPath } = await serve(t);
  const gone = createClient({ socketPath: path.join(dir, 'none.sock'), configFile: '/p/tend.yaml' });
  await assert.rejects(gone.status(), { code: 'TEND_NO_ENGINE', message: 'no engine is running for /p/tend.yaml' });
  const dead = path.join(dir, 'dead.sock');
  fs.writeFileSync(dead, ''); // a leftover file nobody listens on
  await assert.rejects(createClient({ socketPath: dead }).status(), {
    code: 'TEND_NO_ENGINE',
    message: `no engine is running for ${dead}`,
  });
  await assert.rejects(startApiServer({ control: fakeControl().control, socketPath }), { code: 'TEND_ENGINE_START_FAILED' });
});

test('TCP: bound to 127.0.0.1; Host and Origin checked before the bearer token; no CORS headers', async (t) => {
  const token = 'test-token-0123456789';
  const { server } = await serve(t, { tcp: { host: '127.0.0.1', port: 0, token } });
  const address = server.tcpAddress;
  assert.ok(address);
  assert.equal(address.host, '127.0.0.1');
  const { port } = address;
  const ask = (headers: Record<string, string>) => raw({ port, path: '/v1/status', headers: { host: `127.0.0.1:${port}`, ...headers } });
  const bearer = { authorization: `Bearer ${token}` };

  const none = await ask({});
  assert.deepEqual(
    [none.status, none.body.error?.code, none.headers['www-authenticate']],
    [401, 'TEND_API_UNAUTHORIZED', 'Bearer realm="tend"'],
  );
  const wrong = await ask({ authorization: 'Bearer test-token-0123456780' });
  assert.deepEqual([wrong.status, wrong.body.error?.code], [401, 'TEND_API_UNAUTHORIZED']);
  const right = await ask(bearer);
  assert.equal(right.status, 200);
  assert.equal(right.headers['access-control-allow-origin'], undefined);
  assert.equal((await ask({ ...bearer, host: `LOCALHOST:${port}`, origin: `http://localhost:${port}` })).status, 200);
  assert.equal((await ask({ ...bearer, host: `[::1]:${port}` })).status, 200);

  const foreign = await ask({ ...bearer, host: `evil.example:${port}` });
  assert.deepEqual(
    [foreign.status, foreign.body.error?.code, foreign.body.error?.message],
    [403, 'TEND_API_FORBIDDEN', 'request refused: foreign Host header'],
  );
  const rebinding = await ask({ host: `evil.example:${port}` }); // no token either: still 403, not 401
  assert.equal(rebinding.status, 403);
  const otherPort = await ask({ ...bearer, host: `127.0.0.1:${port + 1}` });
  assert.equal(otherPort.status, 403);
  const crossSite = await ask({ ...bearer, origin: 'http://evil.example' });
  assert.deepEqual([crossSite.status, crossSite.body.error?.message], [403, 'request refused: cross-origin request']);

  const client = createClient({ host: '127.0.0.1', port, token });
  assert.deepEqual(await client.status(), status);
  await assert.rejects(createClient({ host: '127.0.0.1', port, token: 'nope' }).status(), { code: 'TEND_API_UNAUTHORIZED' });
});

test("GET /metrics: the Prometheus text of the control, then the API's own requests by route and status", async (t) => {
  const { client, socketPath } = await serve(t);
  await client.status();
  await client.status();
  await client.start({ services: ['web'] });
  await raw({ socketPath, path: '/nope' }).catch(() => undefined);
  const text = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(text.status, 200);
  assert.equal(text.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(
    text.body,
    /^# HELP tend_unit_up Whether the instance runs\.\n# TYPE tend_unit_up gauge\ntend_unit_up\{service="web",instance="0"\} 1\n/,
  );
  assert.match(text.body, /^tend_api_requests_total\{route="status",status="200"\} 2$/m);
  assert.match(text.body, /^tend_api_requests_total\{route="start",status="200"\} 1$/m);
  assert.match(text.body, /^tend_api_requests_total\{route="other",status="404"\} 1$/m);
});
