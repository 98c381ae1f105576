// Alerts against the real bin and a real local HTTP receiver: a service that goes fatal is told
// to a webhook (JSON POST) and an exec hook (JSON on stdin); a webhook that cannot be reached is
// retried and then reported as an event that names the target without its secrets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

test('a service gone fatal is told to a webhook and an exec hook; an unreachable webhook is an event without its secrets', async (t) => {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(text) as Record<string, unknown> });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as { port: number };
  // A port nothing listens on, for the failing webhook.
  const dead = http.createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const deadPort = (dead.address() as { port: number }).port;
  await new Promise((resolve) => dead.close(resolve));

  const d = daemonProject(t, {
    'hook.mjs': `import fs from 'node:fs';\nlet text = '';\nprocess.stdin.on('data', (c) => (text += c));\nprocess.stdin.on('end', () => fs.appendFileSync(${JSON.stringify('hook.out')}, process.env.TEND_EVENT_ALERT + ' ' + text + '\\n'));\n`,
    'tend.yaml': `notify:
  - on: [fatal]
    webhook: "http://127.0.0.1:${port}/hooks/T0?token=SECRET-IN-QUERY"
    headers: { Authorization: "Bearer SECRET-IN-HEADER" }
  - on: [fatal]
    exec: [${JSON.stringify(process.execPath)}, hook.mjs]
  - on: [fatal]
    webhook: "http://user:SECRET-IN-URL@127.0.0.1:${deadPort}/x"
    retries: 1
    timeout: 1s
services:
  crasher:
    command: ${argv('exit-with.mjs', '3')}
    restart: always
    backoff: { initial: 0 }
    start_limit: { burst: 2, interval: 1m }
`,
  });
  const up = await d.tend(['up', '-d']);
  assert.equal(up.code, 1, 'it never ran its min_uptime');
  await waitFor(() => received.length >= 1, { what: 'the webhook to receive the alert' });
  const [first] = received;
  assert.equal(first?.body.alert, 'fatal');
  assert.equal(first?.body.label, 'crasher');
  assert.equal((first?.body.event as { kind?: string } | undefined)?.kind, 'fatal');
  assert.equal(first?.headers.authorization, 'Bearer SECRET-IN-HEADER');
  const hookOut = path.join(d.dir, 'hook.out');
  await waitFor(() => fs.existsSync(hookOut) && fs.readFileSync(hookOut, 'utf8').includes('"alert":"fatal"'), {
    what: 'the exec hook to run',
  });
  assert.match(fs.readFileSync(hookOut, 'utf8'), /^fatal \{"alert":"fatal",/);
  // The dead webhook: tried twice (1 s apart), then an event.
  const failed = async () => {
    const events = (await d.tend(['events', '--json', '-n', '200'])).stdout.trim().split('\n').filter(Boolean);
    return events.map((line) => JSON.parse(line) as Record<string, unknown>).find((e) => e.kind === 'notify-failed');
  };
  await waitFor(async () => (await failed()) !== undefined, { what: 'a notify-failed event', timeoutMs: 20_000 });
  const event = await failed();
  assert.equal(event?.target, `webhook http://127.0.0.1:${deadPort}`);
  assert.match(String(event?.reason), /ECONNREFUSED \(after 2 tries\)/);
  const everything = `${(await d.tend(['events', '--json', '-n', '500'])).stdout}${fs.readFileSync(path.join(d.env.TEND_RUNTIME_DIR ?? '', fs.readdirSync(d.env.TEND_RUNTIME_DIR ?? '')[0] ?? '', 'engine.log'), 'utf8')}`;
  assert.doesNotMatch(everything, /SECRET/, 'no secret in events or engine.log');
});
