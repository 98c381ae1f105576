// 4. Control plane (issue 3), against a detached `tend up -d` (keeper + engine):
// - `tend ps` wall time with N marker services, CLI start included (`node dist/main.js ps -f CFG`, output
//   to /dev/null): hyperfine -N with one warmup run, else a spawn loop (lib.mjs timeCommands). Beside it
//   `node -e 0` (the Node start floor) in the same hyperfine call.
// - API round trip: GET /v1/status over the engine's unix socket from a node:http client in this process,
//   keep-alive off (agent: false) like the CLI; ms from the request to the body's last byte, sequential,
//   after 10 warmup requests. Beside it, in the same way: a bare node:http server (api-floor.mjs) that
//   answers with the very bytes the engine sent (the HTTP + socket floor), and the engine's own answer to
//   an unknown path (404: its HTTP stack without building a status).
// - `tend logs -n 1000 --file CFG` over ~`logsMb` MB of rotated logs: 10 writer services under tend
//   (logs: max_size 2M, keep 20) each print numbered 100-byte lines with mawk, then `exec sleep`; once the
//   last line of each is in its file, the files are real rotated tend logs. Beside it a shell floor, the
//   same job without a server: `tail -n 1000` of each current file | sort by time | tail -n 1000.
// Peers (K.peers; off in QUICK): the same N marker services under PM2 (/opt/peers, private PM2_HOME in the
// work dir, `interpreter: 'none'`; `pm2 jlist` timed; `pm2 kill` afterwards) and supervisord (foreground,
// private socket, the N programs in one group; `supervisorctl status` timed once every program is RUNNING;
// SIGINT afterwards).
// After each fleet: how many of its service processes are still alive (must be 0).
import fs from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR,
  TEND,
  QUICK,
  benchEnv,
  workdir,
  script,
  markerService,
  markerPids,
  tendConfig,
  launch,
  stopProc,
  waitFor,
  alive,
  sleep,
  nowMs,
  summary,
  log,
  runCmd,
  tendCli,
  which,
  timeCommands,
  apiGet,
  tendStatus,
  upDetached,
  downDetached,
} from './lib.mjs';
import { AWK } from './logs.mjs';

const NODE = process.execPath;
const nodeFloor = { name: 'node -e 0', argv: [NODE, '-e', '0'] };
const PM2 = ['/opt/peers/node_modules/.bin/pm2', '/opt/peers/node_modules/pm2/bin/pm2'].find((p) => fs.existsSync(p)) ?? null;

/** N marker services in `dir`; resolves once every one has started (or throws). */
async function markersUp(dir, n, what) {
  await waitFor(() => fs.readdirSync(path.join(dir, 'marks')).length >= n, {
    timeoutMs: 60000,
    everyMs: 5,
    what: `${n} ${what} services running`,
  });
}
/** Service processes (last marker PID of each name) still alive. */
const stillAlive = (dir, names) =>
  names.filter((name) => {
    const p = markerPids(dir, name).at(-1);
    return p && alive(p);
  }).length;

/** Sequential GETs: ms per request (request -> last body byte). A failed request is counted (by error)
 *  and left out of the figures; more than 10 failures throw. */
async function roundTrips(socket, urlPath, count, okStatus = 200) {
  const ms = [],
    failed = [];
  for (let i = 0; i < 10 + count; i++) {
    const r = await apiGet(socket, urlPath);
    if (r.status !== okStatus) {
      failed.push({ at: i + 1, error: r.error ?? `HTTP ${r.status}` });
      if (failed.length > 10)
        throw new Error(`GET ${urlPath}: ${failed.length} failures (${failed.map((f) => `#${f.at} ${f.error}`).join(', ')})`);
      continue;
    }
    if (i >= 10) ms.push(r.ms);
  }
  return { ...summary(ms), failed: failed.length, failures: failed, samples_ms: ms.map((v) => +v.toFixed(3)) };
}

async function psAndApi({ n, psRuns, apiReqs }, res) {
  const dir = workdir('control-tend');
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const names = services.map((s) => s.name);
  const cfg = tendConfig(dir, services, { restart: 'always' });
  let d = null;
  try {
    d = await upDetached(dir, cfg);
    await markersUp(dir, n, 'tend');
    res.up_ms = d.ms;
    const once = await tendCli(['ps', '-f', cfg], { cwd: dir, stdoutFile: path.join(dir, 'ps.out') });
    // Lines minus the header and the containment footer.
    const rows =
      once.stdout
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('containment:')).length - 1;
    if (once.code !== 0 || rows !== n)
      throw new Error(`tend ps: exit ${once.code}, ${rows} rows (want ${n}): ${once.stderr.slice(0, 200)}`);
    log(`control: tend ps x ${psRuns} (+ node -e 0)`);
    res.ps = await timeCommands([{ name: 'tend ps', argv: [NODE, TEND, 'ps', '-f', cfg] }, nodeFloor], { runs: psRuns, dir, tag: 'ps' });

    log(`control: API status round trip x ${apiReqs} (+ floor, + 404)`);
    const first = await apiGet(d.socket, '/v1/status');
    const body = JSON.parse(first.body.toString());
    if (body.units.length !== n || body.units.some((u) => u.phase !== 'running'))
      throw new Error(`status: ${body.units.length} units, not all running`);
    res.api = { requests: apiReqs, body_bytes: first.body.length, tend: await roundTrips(d.socket, '/v1/status', apiReqs) };
    res.api.engine_404 = await roundTrips(d.socket, '/v1/no-such-route', apiReqs, 404);
    const after = await tendStatus(d.socket);
    res.api.engine_pid = { before: d.status.engine.pid, after: after?.engine.pid ?? null }; // a replaced engine would show here
    // The floor: same bytes from a bare node:http server on its own socket.
    const fdir = workdir('control-apifloor');
    const bodyFile = path.join(fdir, 'status.json');
    const sock = path.join(fdir, 'floor.sock');
    fs.writeFileSync(bodyFile, first.body);
    const floor = launch(fdir, 'apifloor', [path.join(BENCH_DIR, 'api-floor.mjs'), sock, bodyFile]);
    try {
      // The socket file exists from bind(), before listen(): wait for an answer, not for the file.
      const t = nowMs();
      while (!(await apiGet(sock, '/v1/status', 1000)).ok) {
        if (nowMs() - t > 10000) throw new Error('api-floor does not answer');
        await sleep(10);
      }
      res.api.floor = await roundTrips(sock, '/v1/status', apiReqs);
    } finally {
      await stopProc(floor);
    }
  } finally {
    if (d) {
      const down = await downDetached(dir, cfg, d);
      res.down_ms = down.ms;
      if (down.error) res.errors.push(`tend down: ${down.error}`);
    }
    const left = stillAlive(dir, names);
    if (left) res.errors.push(`tend: ${left} services still alive after tend down`);
  }
}

/** Lines per writer so that tend's file (31-byte "<ISO time> 0 out " prefix + 100-byte line) holds `mb` MB. */
const TEND_LINE_BYTES = 31 + 100;

async function logsRead({ logsRuns, logsMb, logsServices }, res) {
  if (!AWK) throw new Error('no mawk/awk installed for the log writers');
  const dir = workdir('control-logs');
  const perMb = logsMb / logsServices;
  const lines = Math.round((perMb * 1e6) / TEND_LINE_BYTES);
  const writers = Array.from({ length: logsServices }, (_, i) =>
    script(
      dir,
      `w${i}`,
      `${AWK} -v n=${lines} 'BEGIN { p = sprintf("%83s", ""); for (i = 1; i <= n; i++) printf "line %09d %sx\\n", i, p }'\nexec sleep 100000\n`,
    ),
  );
  const cfg = tendConfig(dir, writers, { restart: 'never', logs: { max_size: '2M', keep: 20 } });
  const logDir = path.join(dir, 'logs');
  const last = `line ${String(lines).padStart(9, '0')} `;
  const tailHas = (file) => {
    let fd;
    try {
      fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      const b = Buffer.alloc(256);
      const got = fs.readSync(fd, b, 0, 256, Math.max(0, size - 256));
      return b.subarray(0, got).toString('latin1').includes(last);
    } catch {
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
  let d = null;
  res.logs = { services: logsServices, lines_per_service: lines, rotation: { max_size: '2M', keep: 20 } };
  try {
    d = await upDetached(dir, cfg);
    const t0 = nowMs();
    await waitFor(() => writers.every((w) => tailHas(path.join(logDir, `${w.name}.log`))), {
      timeoutMs: 300000,
      everyMs: 50,
      what: "every writer's last line in its log",
    });
    res.logs.write_ms = Math.round(nowMs() - t0);
    await sleep(300);
    const files = fs.readdirSync(logDir).filter((f) => /^w\d+\.log(\.\d+)?$/.test(f));
    res.logs.files = files.length;
    res.logs.total_mb = +(files.reduce((a, f) => a + fs.statSync(path.join(logDir, f)).size, 0) / 1e6).toFixed(1);
    log(
      `control: ${res.logs.total_mb} MB in ${files.length} log files (written in ${res.logs.write_ms} ms); tend logs -n 1000 x ${logsRuns}`,
    );
    // Into a file: complete. Into a pipe its reader drains 300 ms late: what process.exit() leaves of it.
    const once = await tendCli(['logs', '-n', '1000', '--file', cfg], { cwd: dir, stdoutFile: path.join(dir, 'logs-n-1000.out') });
    const count = (text) => text.split('\n').filter(Boolean).length;
    res.logs.output_lines = count(once.stdout);
    if (once.code !== 0 || res.logs.output_lines !== 1000)
      throw new Error(`tend logs -n 1000 > file: exit ${once.code}, ${res.logs.output_lines} lines: ${once.stderr.slice(0, 200)}`);
    const piped = await tendCli(['logs', '-n', '1000', '--file', cfg], { cwd: dir, readDelayMs: 300 });
    res.logs.slow_pipe = { exit: piped.code, lines: count(piped.stdout), bytes: piped.stdoutBytes, file_bytes: once.stdoutBytes };
    const floorSh = script(
      dir,
      'logs-floor',
      `cd '${logDir}' && tail -q -n 1000 ${writers.map((w) => `${w.name}.log`).join(' ')} | LC_ALL=C sort -s -k1,1 | tail -n 1000\n`,
    );
    res.logs.timing = await timeCommands(
      [
        { name: 'tend logs -n 1000', argv: [NODE, TEND, 'logs', '-n', '1000', '--file', cfg] },
        { name: 'tail+sort floor', argv: floorSh.argv },
      ],
      { runs: logsRuns, dir, tag: 'logs' },
    );
  } finally {
    if (d) {
      const down = await downDetached(dir, cfg, d);
      if (down.error) res.errors.push(`tend down (logs): ${down.error}`);
    }
    if (process.env.KEEP_TMP !== '1') fs.rmSync(logDir, { recursive: true, force: true }); // ~200 MB
  }
}

async function pm2Peer({ n, psRuns }) {
  if (!PM2) return { skipped: 'PM2 not installed at /opt/peers' };
  const dir = workdir('control-pm2');
  const env = { ...benchEnv(), PM2_HOME: path.join(dir, 'pm2home') };
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const names = services.map((s) => s.name);
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const apps = path.join(dir, 'apps.json');
  fs.writeFileSync(
    apps,
    JSON.stringify({
      apps: services.map((s) => ({
        name: s.name,
        script: s.argv[1],
        interpreter: 'none',
        autorestart: true,
        out_file: path.join(dir, 'logs', `${s.name}.out`),
        error_file: path.join(dir, 'logs', `${s.name}.err`),
      })),
    }),
  );
  const r = { version: null };
  try {
    const v = await runCmd([PM2, '--version'], { env, cwd: dir });
    r.version = v.stdout.trim().split('\n').at(-1);
    const t0 = nowMs();
    const st = await runCmd([PM2, 'start', apps], { env, cwd: dir, timeoutMs: 120000 });
    if (st.code !== 0) throw new Error(`pm2 start exited ${st.code ?? st.error}: ${st.stderr.slice(0, 300)}`);
    await markersUp(dir, n, 'pm2');
    r.all_running_ms = Math.round(nowMs() - t0);
    const jl = await runCmd([PM2, 'jlist'], { env, cwd: dir, stdoutFile: path.join(dir, 'jlist.out') });
    const list = JSON.parse(jl.stdout.slice(jl.stdout.indexOf('[')));
    r.jlist_bytes = jl.stdoutBytes;
    if (jl.code !== 0 || list.length !== n) throw new Error(`pm2 jlist: exit ${jl.code}, ${list.length} apps`);
    log(`control: pm2 jlist x ${psRuns}`);
    r.timing = await timeCommands([{ name: 'pm2 jlist', argv: [PM2, 'jlist'] }], { runs: psRuns, env, dir, tag: 'pm2' });
  } catch (e) {
    r.error = e.message;
  } finally {
    const k = await runCmd([PM2, 'kill'], { env, cwd: dir, timeoutMs: 60000 });
    if (k.code !== 0) r.error = [r.error, `pm2 kill exited ${k.code ?? k.error}`].filter(Boolean).join('; ');
    await sleep(200);
    r.services_alive_after = stillAlive(dir, names);
  }
  return r;
}

async function supervisordPeer({ n, psRuns }) {
  const sd = which('supervisord'),
    ctl = which('supervisorctl');
  if (!sd || !ctl) return { skipped: 'supervisord not installed' };
  const dir = workdir('control-supervisord');
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const names = services.map((s) => s.name);
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = path.join(dir, 'supervisord.conf');
  fs.writeFileSync(
    conf,
    [
      `[unix_http_server]\nfile=${dir}/supervisor.sock\n`,
      `[supervisord]\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\nchildlogdir=${dir}/logs\nnodaemon=true\nminfds=1024\n`,
      '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n',
      `[supervisorctl]\nserverurl=unix://${dir}/supervisor.sock\n`,
      ...services.map(
        (s) =>
          `[program:${s.name}]\ncommand=${s.argv.join(' ')}\nautorestart=true\nstdout_logfile=${dir}/logs/${s.name}.log\nredirect_stderr=true\n`,
      ),
      // One group: supervisord stops group after group, ~0.3 s each (56 s for 200 one-program groups).
      `[group:fleet]\nprograms=${names.join(',')}\n`,
    ].join('\n'),
  );
  const r = {};
  const proc = launch(dir, 'supervisord', ['-n', '-c', conf], { cmd: sd });
  try {
    const t0 = nowMs();
    await markersUp(dir, n, 'supervisord');
    r.all_running_ms = Math.round(nowMs() - t0);
    // `status` exits 3 while a program is still STARTING (startsecs, 1 s): wait until all are RUNNING.
    const deadline = nowMs() + 30000;
    for (;;) {
      const s = await runCmd([ctl, '-c', conf, 'status'], { cwd: dir });
      if (s.code === 0 && s.stdout.trim().split('\n').length === n) break;
      if (nowMs() > deadline) throw new Error(`supervisorctl status still exits ${s.code}: ${s.stdout.slice(0, 200)}`);
      await sleep(200);
    }
    log(`control: supervisorctl status x ${psRuns}`);
    r.timing = await timeCommands([{ name: 'supervisorctl status', argv: [ctl, '-c', conf, 'status'] }], {
      runs: psRuns,
      dir,
      tag: 'supervisorctl',
    });
  } catch (e) {
    r.error = e.message;
  } finally {
    const stop = await stopProc(proc, 60000);
    if (stop.error) r.error = [r.error, `supervisord stop: ${stop.error}`].filter(Boolean).join('; ');
    r.stop_ms = stop.ms;
    await sleep(200);
    r.services_alive_after = stillAlive(dir, names);
  }
  return r;
}

export async function control(K) {
  const res = { n: K.n, errors: [], quick: QUICK };
  for (const [name, part] of [
    ['ps+api', psAndApi],
    ['logs -n', logsRead],
  ]) {
    try {
      await part(K, res);
    } catch (e) {
      res.errors.push(`${name}: ${e.message}`);
      log(`control ${name}: ${e.message}`);
    }
  }
  res.peers = {};
  if (!K.peers) res.peers.skipped = 'BENCH_PEERS=0 (the QUICK default)';
  else {
    for (const [name, peer] of [
      ['pm2', pm2Peer],
      ['supervisord', supervisordPeer],
    ]) {
      try {
        res.peers[name] = await peer(K);
      } catch (e) {
        res.peers[name] = { error: e.message };
      }
      const p = res.peers[name];
      if (p.error) res.errors.push(`peer ${name}: ${p.error}`);
      if (p.services_alive_after) res.errors.push(`peer ${name}: ${p.services_alive_after} services still alive after its stop`);
      log(`control: peer ${name}: ${p.skipped ?? p.error ?? `median ${Object.values(p.timing?.results ?? {})[0]?.p50} ms`}`);
    }
  }
  return res;
}
