// `tend why` and the audit trail (issue 12) against the real bin: a crash loop to fatal, a
// liveness restart and an operator stop told in sentences; every control action in the events
// with its door (unix socket, TCP, SIGHUP) and outcome.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort } from '../helpers/ports.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));

test('why tells a crash loop to fatal, a liveness restart and an operator stop, in sentences', async (t) => {
  const port = await freePort();
  const d = daemonProject(t, {
    'tend.yaml': `services:
  crashy:
    command: ${argv('exit-with.mjs', '1')}
    restart: on-failure
    min_uptime: 0
    backoff: { initial: 50ms }
    start_limit: { burst: 3, interval: 60s }
  web:
    command: ${argv('sick-http.mjs', String(port))}
    restart: always
    backoff: { initial: 0 }
    startup: { http: "http://127.0.0.1:${port}/healthz", period: 100ms, failure_threshold: 600 }
    liveness: { http: "http://127.0.0.1:${port}/healthz", period: 200ms, failure_threshold: 2 }
`,
  });
  await d.tend(['up', '-d']);
  await waitFor(async () => (await d.status()).units.find((u) => u.label === 'crashy')?.phase === 'fatal', {
    what: 'crashy to go fatal',
  });
  const crashy = await d.tend(['why', 'crashy']);
  assert.equal(crashy.code, 0, crashy.stderr);
  assert.match(crashy.stdout, /^crashy: fatal; 2 restarts$/m);
  assert.match(crashy.stdout, /^ {2}run 1, pid \d+: .* → .*: exited with code 1: it ended by itself \(a crash\), after /m);
  assert.match(crashy.stdout, /^ {6}then restarted by its policy after a backoff of \d+ms \(failure 1 in a row\)$/m);
  assert.match(crashy.stdout, /^ {6}then fatal: 3 starts within .* reached its start limit; tend stopped restarting it$/m);

  const before = (await d.pids()).web;
  assert.equal((await d.tend(['signal', 'web', 'USR1'])).code, 0);
  await waitFor(
    async () => {
      const unit = (await d.status()).units.find((u) => u.label === 'web');
      return unit?.pid !== null && unit?.pid !== before && unit?.lastResult === 'liveness';
    },
    { what: 'web restarted for liveness' },
  );
  const web = await d.tend(['why', 'web']);
  // sick-http.mjs exits 0 on SIGTERM: the cause is the probe, not the exit.
  assert.match(
    web.stdout,
    /^ {2}run 1, pid \d+: .*: exited with code 0: stopped because its liveness probe failed: HTTP 500 sick, after /m,
  );
  assert.match(web.stdout, /^ {2}run 2, pid \d+: .* → now: still running$/m);
  assert.match(web.stdout, /^operator actions:\n {2}.* tend signal web USR1 \(unix socket\): web: /m);

  assert.equal((await d.tend(['stop', 'web'])).code, 0);
  const stopped = await d.tend(['why', 'web', '-n', '1']);
  assert.match(stopped.stdout, /^web: stopped; 1 restart$/m);
  assert.match(stopped.stdout, /\(1 earlier runs not shown\)/);
  assert.match(
    stopped.stdout,
    /: exited with code 0: stopped by an operator \(stop or restart\) \(SIGTERM\)|killed by SIGTERM: stopped by an operator/,
  );
  assert.match(stopped.stdout, /tend stop web \(unix socket\): web: stopped$/m);
  assert.match((await d.tend(['why', 'wbe'])).stderr, /did you mean "web"\?/);
  // After down, why reads the events file.
  assert.equal((await d.tend(['down'])).code, 0);
  const after = await d.tend(['why', 'crashy']);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /^crashy: stopped; 0 restarts\n {2}\(1 earlier runs not shown\)|^crashy: stopped; 0 restarts\n {2}run /m);
});

test('the audit trail: every control action in the events, with its door and outcome', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `api: { listen: "127.0.0.1:0" }\nservices:\n  web:\n    command: ${argv('forever.mjs')}\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  assert.equal((await d.tend(['restart', 'web'])).code, 0);
  assert.equal((await d.tend(['stop', 'nope'])).code, 1);
  const info = JSON.parse((await d.tend(['info', '--json'])).stdout);
  const token = fs.readFileSync(info.token, 'utf8').trim();
  const tcp = await fetch(`http://127.0.0.1:${info.engine.tcp.port}/v1/stop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ services: ['web'] }),
  });
  assert.equal(tcp.status, 200);
  process.kill(info.engine.pid, 'SIGHUP');
  let events = '';
  await waitFor(
    async () => {
      events = (await d.tend(['events', '-n', '50'])).stdout;
      return events.includes('SIGHUP');
    },
    { what: 'the SIGHUP reload in the events', seen: () => events },
  );
  assert.match(events, /tend: restart web \(through the unix socket\): web: restarted \(pid \d+\)/);
  assert.match(events, /tend: stop nope \(through the unix socket\): failed: there is no service named "nope" in the config/);
  assert.match(events, /tend: stop web \(through the TCP API\): web: stopped/);
  assert.match(events, /tend: reload \(through SIGHUP\): nothing changed/);
  const json = (await d.tend(['events', '--json', '-n', '50'])).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const restart = json.find((e) => e.kind === 'action' && e.action === 'restart');
  assert.deepEqual(
    {
      service: restart.service,
      unit: restart.unit,
      label: restart.label,
      source: restart.source,
      targets: restart.targets,
      ok: restart.ok,
    },
    { service: '', unit: '', label: 'tend', source: 'unix', targets: 'web', ok: true },
  );
  assert.ok(fs.existsSync(path.join(d.dir, '.tend', 'logs', 'events.jsonl')));
});
