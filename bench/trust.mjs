// Trust (issue 8): three figures of detached tend (`tend up -d`: keeper + engine, TEND_RUNTIME_DIR under the run dir),
// each in a fresh one-service project of its own, one after the other.
//
// 1. followers  Engine memory under stalled followers. One service (restart: always) writes 100 lines of 80 bytes
//               every 10 ms to stdout (~10,000 lines/s; <dir>/scripts/noisy.js, each line starts with its sequence
//               number, so the rate actually written is read from the service's log file at both ends of the window).
//               The engine's pid and the keeper's are `tend ps --json`'s engine.pid and engine.keeperPid.
//               No followers: 2 s after `up -d`, the engine's VmRSS and Pss (smaps_rollup) every 500 ms for
//               BENCH_TRUST_BASE_S (5 s); max and final.
//               Then BENCH_TRUST_FOLLOWERS (100) follow streams over the project's unix socket (<runtime dir>/<project
//               id>/engine.sock): raw `GET /v1/logs?follow=1&service=noisy HTTP/1.1` written on a net socket that is
//               paused in the same turn (it never reads). For BENCH_TRUST_FOLLOW_S (20 s) from the moment all are
//               sent: the engine's VmRSS and Pss every 500 ms (max, final; the keeper's beside them) and its CPU time
//               (utime+stime; CPU % of one core over the window, and over the no-follower samples).
//               Then every stream is resumed and read for up to 5 s: its status line (200, or 503 TEND_API_BUSY =
//               refused), whether its last line is the TEND_API_SLOW_READER error, whether the engine closed it
//               ('end'/'close' within the 5 s) or it is still open (destroyed by us then). Ended by the engine =
//               200 and (slow-reader line or closed). The bytes read then (mib_read_total) are what the engine and the
//               kernel's socket buffers (~200 KiB a stream) still owed the streams at the end of the window; each
//               slow-reader line names the share its stream was held to ("more than N KiB behind": slow_reader_share_kib).
//               Memory once more 3 s after that ("after the readers read").
//               Target (issue 8): engine VmRSS < 150 MB (10^6 bytes) at every sample of the window.
// 2. flood      Unix-socket `tend ps --json` latency while BENCH_TRUST_FLOOD_CONNS (20,000) TCP connections are held
//               open on the engine's TCP listener (config `api: { listen: "127.0.0.1:<free port>" }`). The engine
//               takes 64 at a time and drops a silent one after 5 s; the point is the flood. The connections come from
//               BENCH_TRUST_FLOOD_PROCS (2) child processes (<dir>/scripts/flood.mjs; descriptors are capped at
//               20,000 a process), each holding its share from 127.0.0.1 (ports chosen by the kernel at connect; an
//               explicit source address per process makes node bind() first, and 10,000 binds block the flooder for
//               seconds) and sending nothing. A connection that closes after it was established is re-opened at once
//               (setImmediate); one that failed before it connected, after 10 ms. Each child prints its counters every
//               500 ms and on SIGTERM (connected now, connecting now, re-opens queued, connects, closes, errors by
//               code); held = connected + connecting + queued. A flooder's event loop is saturated by its connects, so
//               it reports seldom: its figures (`flood`) are totals
//               and rates over its whole life, from its own timestamps.
//               `tend ps --json -f cfg` (the CLI, node start included; spawn and wait, 1 warmup + BENCH_TRUST_PS_RUNS
//               = 10 runs, each exit code checked; each run followed by one of `node -e 0`, the machine's floor under
//               the same load) without the flood, then during it: the flood is started, the ps
//               runs begin once every child has issued all its connects plus 1 s, and the flood is ended (SIGTERM,
//               SIGKILL after 3 s, by PID + start time; checked gone) once they are done. The engine's open
//               descriptors (readdir /proc/<pid>/fd) every 200 ms while the flood runs: max; the engine's and the
//               flood's CPU over the same time.
// 3. pacing     Keeper restart pacing when the engine cannot start. `up -d` of one marker service (sleep), then the
//               log directory is chmod 0777 (tend refuses a world-writable log_dir) and the engine SIGKILLed (PID +
//               start time). For BENCH_TRUST_PACING_S (40 s) from the kill: the keeper's children with `engine` and
//               `--keeper` in their cmdline, every 100 ms (distinct PIDs), and afterwards engine.log: each "engine N
//               failed to start (...); starting a new one in D ms" / "died" line and each "engine N started (respawn)"
//               line with its time; the delay announced and the gap actually seen (failed -> next started). At 15%,
//               45% and 80% of the window `tend ps` (and `tend ps --json` at 15%): exit code, whether it says the
//               engine is not running and gives the last failure. After the window `tend down`: exit code, then keeper,
//               the failing engine and the service gone (polled, 15 s). The mode is restored (finally), whatever happened.
// Every process started carries the bench's env marker; whatever is left is SIGKILLed by PID with its start time checked.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  TEND,
  workdir,
  markerService,
  markerPids,
  tendConfig,
  tendCli,
  tendPaths,
  benchEnv,
  readStat,
  alive,
  safeKill,
  memMiB,
  waitFor,
  nowMs,
  sleep,
  summary,
  freePort,
  runCmd,
  log,
} from './lib.mjs';

const r1 = (v) => (typeof v === 'number' ? +v.toFixed(1) : null);
const MB_PER_MIB = 1.048576;

/** `tend ps --json -f cfg` parsed: { engine: { pid, starttime }, keeper: { pid, starttime }, doc }, or throws. */
async function psDaemon(cfg, dir) {
  const r = await tendCli(['ps', '--json', '-f', cfg], { cwd: dir, timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`tend ps --json exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 300)}`);
  const doc = JSON.parse(r.stdout);
  const proc = (pid) => {
    const st = pid ? readStat(pid) : null;
    return st ? { pid, starttime: st.starttime } : null;
  };
  return { engine: proc(doc.engine?.pid), keeper: proc(doc.engine?.keeperPid), doc };
}
async function up(dir, cfg) {
  const r = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  fs.writeFileSync(path.join(dir, 'up.out'), `${r.stdout}${r.stderr}`);
  if (r.code !== 0) throw new Error(`tend up -d exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 300)}`);
  const d = await psDaemon(cfg, dir);
  if (!d.engine || !d.keeper)
    throw new Error(`no engine or keeper after up -d (ps --json: engine ${d.doc.engine?.pid}, keeper ${d.doc.engine?.keeperPid})`);
  return { ...d, up_ms: r1(r.ms) };
}
/** `tend down`, then keeper, engine(s) and the given processes gone; what is left is SIGKILLed and counted. */
async function down(dir, cfg, procs) {
  const t0 = nowMs();
  const r = await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 60000 });
  const res = { code: r.code ?? r.error, ms: r1(r.ms), out: `${r.stdout}${r.stderr}`.trim().slice(0, 300) };
  const live = () => procs.filter((p) => p && alive(p.pid, p.starttime));
  await waitFor(() => live().length === 0, { timeoutMs: 15000, everyMs: 20 }).then(
    () => {
      res.all_gone_ms = r1(nowMs() - t0);
    },
    () => {},
  );
  const left = live();
  res.left_after_15s = left.map((p) => p.pid);
  for (const p of left) safeKill(p.pid, 'SIGKILL', p.starttime);
  return res;
}
/** Lines of engine.log that tell of trouble (hung kills, deaths, failures, stacks). */
function engineLogTrouble(file) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /is hung|did not answer|died|failed|internal error|Error|warning/.test(l))
      .slice(0, 10)
      .map((l) => l.slice(0, 300));
  } catch {
    return [];
  }
}
/** The engine's CPU % of one core over a series of samples (engine_cpu_s at both ends). */
const cpuPct = (xs) => {
  const a = xs[0],
    b = xs.at(-1);
  return a?.engine_cpu_s == null || b?.engine_cpu_s == null || b.t_s <= a.t_s
    ? null
    : r1(((b.engine_cpu_s - a.engine_cpu_s) / (b.t_s - a.t_s)) * 100);
};
const ticks = (p) => {
  const st = readStat(p.pid);
  return st && st.starttime === p.starttime ? st.ticks : null;
};
const maxOf = (xs, k) => {
  const v = xs.map((x) => x?.[k]).filter((x) => typeof x === 'number');
  return v.length ? Math.max(...v) : null;
};

// ---- 1. engine memory under stalled followers ---------------------------------------------------------
const NOISY = `// ~10,000 lines/s: 100 lines of 80 bytes (sequence number, padding, newline) every 10 ms
let seq = 0;
setInterval(() => {
  let s = '';
  for (let i = 0; i < 100; i++) { const h = String(++seq) + ' '; s += h + 'x'.repeat(79 - h.length) + '\\n'; }
  process.stdout.write(s);
}, 10);
`;
/** Sequence number of the last complete line of the service's log file (its last 4 KiB). */
function lastSeq(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(4096, size));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    const lines = buf.toString('latin1').split('\n').slice(0, -1); // the part after the last newline may be torn
    const m = lines.at(-1)?.match(/ (\d+) x+$/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
async function followers({ trustFollowS, trustBaseS, trustFollowers }, res) {
  const dir = workdir('trust-follow');
  const file = path.join(dir, 'scripts', 'noisy.js');
  fs.writeFileSync(file, NOISY);
  const cfg = tendConfig(dir, [{ name: 'noisy', argv: [process.execPath, file] }], { restart: 'always' });
  Object.assign(res, {
    service: 'noisy: 100 lines x 80 B every 10 ms',
    followers: trustFollowers,
    follow_s: trustFollowS,
    base_s: trustBaseS,
  });
  const d = await up(dir, cfg);
  const { socket, engineLog } = await tendPaths(cfg);
  const logFile = path.join(dir, 'logs', 'noisy.log');
  res.engine_pid = d.engine.pid;
  res.keeper_pid = d.keeper.pid;
  const socks = [];
  try {
    await sleep(2000);
    const sample = (t0) => {
      const e = alive(d.engine.pid, d.engine.starttime) ? memMiB(d.engine.pid) : null;
      const k = alive(d.keeper.pid, d.keeper.starttime) ? memMiB(d.keeper.pid) : null;
      const et = ticks(d.engine);
      return {
        t_s: r1((nowMs() - t0) / 1000),
        engine_rss: e?.rss ?? null,
        engine_pss: e?.pss ?? null,
        engine_cpu_s: et === null ? null : et / 100,
        keeper_rss: k?.rss ?? null,
        keeper_pss: k?.pss ?? null,
      };
    };
    const window = async (seconds) => {
      const t0 = nowMs();
      const out = [];
      for (let i = 0; i <= seconds * 2; i++) {
        out.push(sample(t0));
        if (i < seconds * 2) await sleep(Math.max(0, t0 + (i + 1) * 500 - nowMs()));
      }
      return out;
    };
    // no followers
    const seqB0 = lastSeq(logFile),
      tB0 = nowMs();
    const base = await window(trustBaseS);
    const seqB1 = lastSeq(logFile),
      tB1 = nowMs();
    res.no_followers = {
      samples: base,
      engine_cpu_pct: cpuPct(base),
      engine_rss_max: maxOf(base, 'engine_rss'),
      engine_rss_final: base.at(-1).engine_rss,
      engine_pss_max: maxOf(base, 'engine_pss'),
      engine_pss_final: base.at(-1).engine_pss,
      lines_per_s: seqB0 !== null && seqB1 !== null ? Math.round(((seqB1 - seqB0) * 1000) / (tB1 - tB0)) : null,
    };
    log(`trust: followers: no followers: engine RSS max ${res.no_followers.engine_rss_max} MiB, ${res.no_followers.lines_per_s} lines/s`);
    // the followers: request sent, socket paused in the same turn, never read
    const req = 'GET /v1/logs?follow=1&service=noisy HTTP/1.1\r\nHost: tend\r\nConnection: close\r\n\r\n';
    const connectErrors = [];
    for (let i = 0; i < trustFollowers; i++) {
      const s = net.createConnection({ path: socket });
      const st = { s, head: Buffer.alloc(0), tail: Buffer.alloc(0), bytes: 0, ended: false, closed: false, error: null };
      s.on('error', (e) => {
        st.error = e.code ?? e.message;
      });
      s.on('end', () => {
        st.ended = true;
      });
      s.on('close', () => {
        st.closed = true;
      });
      s.write(req);
      s.pause();
      socks.push(st);
    }
    await waitFor(() => socks.every((x) => x.s.connecting === false), { timeoutMs: 5000, what: 'follow connections' }).catch((e) =>
      connectErrors.push(e.message),
    );
    const seqF0 = lastSeq(logFile),
      tF0 = nowMs();
    log(`trust: followers: ${trustFollowers} stalled followers open; sampling the engine for ${trustFollowS} s`);
    const during = await window(trustFollowS);
    const seqF1 = lastSeq(logFile),
      tF1 = nowMs();
    const engineAlive = alive(d.engine.pid, d.engine.starttime);
    res.with_followers = {
      samples: during,
      engine_rss_max: maxOf(during, 'engine_rss'),
      engine_rss_final: during.at(-1).engine_rss,
      engine_pss_max: maxOf(during, 'engine_pss'),
      engine_pss_final: during.at(-1).engine_pss,
      keeper_rss_max: maxOf(during, 'keeper_rss'),
      keeper_pss_max: maxOf(during, 'keeper_pss'),
      engine_cpu_pct: cpuPct(during),
      lines_per_s: seqF0 !== null && seqF1 !== null ? Math.round(((seqF1 - seqF0) * 1000) / (tF1 - tF0)) : null,
      engine_same_pid_throughout: engineAlive,
      connect_errors: connectErrors,
    };
    if (!engineAlive)
      res.errors.push(`the engine ${d.engine.pid} was replaced during the window (engine.log: ${engineLogTrouble(engineLog).join(' | ')})`);
    // read what each stream holds: status line, last line, closed by the engine or still open
    const t0 = nowMs();
    for (const st of socks) {
      st.s.on('data', (b) => {
        st.bytes += b.length;
        if (st.head.length < 512) st.head = Buffer.concat([st.head, b]).subarray(0, 512);
        st.tail = Buffer.concat([st.tail, b]);
        if (st.tail.length > 8192) st.tail = st.tail.subarray(st.tail.length - 8192);
      });
      st.s.resume();
    }
    await waitFor(() => socks.every((x) => x.closed), { timeoutMs: 5000, everyMs: 20 }).catch(() => {});
    const readMs = nowMs() - t0;
    const cls = socks.map((st) => {
      const head = st.head.toString('latin1');
      const tail = st.tail.toString('latin1');
      const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0) || null;
      return {
        status,
        busy: status === 503 && /TEND_API_BUSY/.test(head + tail),
        slow: /"code":"TEND_API_SLOW_READER"/.test(tail),
        closed: st.closed,
        bytes: st.bytes,
        error: st.error,
        message: tail.match(/"message":"([^"]*)"/)?.[1] ?? null,
      };
    });
    for (const st of socks) st.s.destroy();
    const count = (f) => cls.filter(f).length;
    const statuses = {};
    for (const c of cls) statuses[c.status ?? 'none'] = (statuses[c.status ?? 'none'] ?? 0) + 1;
    const bytes = summary(cls.map((c) => c.bytes / 2 ** 20));
    res.streams = {
      statuses,
      ended_by_engine: count((c) => c.status === 200 && (c.slow || c.closed)),
      slow_reader_line: count((c) => c.status === 200 && c.slow),
      closed_without_error_line: count((c) => c.status === 200 && !c.slow && c.closed),
      refused_busy: count((c) => c.busy),
      still_open_after_read: count((c) => !c.closed),
      other: count((c) => c.status !== 200 && !c.busy),
      socket_errors: count((c) => c.error),
      read_ms: r1(readMs),
      mib_read_per_stream: { min: bytes.min, p50: bytes.p50, max: bytes.max },
      // what the engine still owed the streams at the end of the window (engine buffers + the kernel's socket buffers)
      mib_read_total: r1(cls.reduce((a, c) => a + c.bytes, 0) / 2 ** 20),
      // the share each dropped stream was held to when it was dropped ("fell more than N KiB behind"), ascending
      slow_reader_share_kib: cls
        .map((c) => Number(c.message?.match(/more than (\d+) KiB/)?.[1]))
        .filter((v) => v > 0)
        .sort((a, b) => a - b),
      slow_reader_message: cls.find((c) => c.message)?.message ?? null,
    };
    log(
      `trust: followers: engine RSS max ${res.with_followers.engine_rss_max} MiB (final ${res.with_followers.engine_rss_final}), PSS max ${res.with_followers.engine_pss_max}; streams ended by the engine ${res.streams.ended_by_engine}, refused ${res.streams.refused_busy}, still open ${res.streams.still_open_after_read}`,
    );
    await sleep(3000);
    res.after_read = sample(t0);
    res.target = 'engine VmRSS < 150 MB (10^6 B) during the window';
    res.engine_rss_max_mb = r1(res.with_followers.engine_rss_max * MB_PER_MIB);
    res.verdict = typeof res.with_followers.engine_rss_max !== 'number' ? '?' : res.engine_rss_max_mb < 150 ? 'met' : 'MISSED';
    res.engine_log_trouble = engineLogTrouble(engineLog);
  } finally {
    for (const st of socks) st.s.destroy();
    const svc =
      (await psDaemon(cfg, dir).catch(() => null))?.doc?.units
        ?.map((u) => u.pid)
        .filter(Boolean)
        .map((pid) => ({ pid, starttime: readStat(pid)?.starttime })) ?? [];
    res.down = await down(dir, cfg, [d.keeper, d.engine, ...svc]);
    if (res.down.code !== 0) res.errors.push(`tend down exited ${res.down.code}: ${res.down.out}`);
    if (res.down.left_after_15s.length) res.errors.push(`left after down (SIGKILLed): ${res.down.left_after_15s.join(' ')}`);
  }
}

// ---- 2. unix-socket ps during a TCP flood --------------------------------------------------------------
const FLOOD = `// Holds COUNT TCP connections to HOST:PORT, sending nothing; a connection that closes
// after it was established is re-opened at once, one that failed before it connected after 10 ms.
// Counters as a JSON line on stdout every 500 ms; SIGTERM prints the last line and exits.
import net from 'node:net';
const [port, count, host] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const c = { issued: 0, connected_now: 0, connecting_now: 0, reopen_queued: 0, connects: 0, closes_established: 0, failed_connects: 0, errors: {} };
let stopping = false;
const all = new Set();
function reopen() { c.reopen_queued--; open(); }
function open() {
  if (stopping) return;
  c.issued++; c.connecting_now++;
  const s = net.connect({ port, host });
  all.add(s);
  let established = false;
  s.on('connect', () => { established = true; c.connecting_now--; c.connected_now++; c.connects++; });
  s.on('error', (e) => { c.errors[e.code ?? 'other'] = (c.errors[e.code ?? 'other'] ?? 0) + 1; });
  s.on('close', () => {
    all.delete(s);
    c.reopen_queued++;
    if (established) { c.connected_now--; c.closes_established++; setImmediate(reopen); }
    else { c.connecting_now--; c.failed_connects++; setTimeout(reopen, 10); }
  });
  s.resume();
}
const report = () => process.stdout.write(JSON.stringify({ t: Date.now(), ...c }) + '\\n');
for (let i = 0; i < count; i++) open();
c.all_issued_at = Date.now();
setInterval(report, 500);
report();
process.on('SIGTERM', () => { stopping = true; report(); for (const s of all) s.destroy(); process.exit(0); });
`;
/** Launch one flood child; its status lines are parsed as they come. */
function launchFlood(dir, file, port, count) {
  const child = spawn(process.execPath, [file, String(port), String(count), '127.0.0.1'], {
    cwd: dir,
    env: benchEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const st = readStat(child.pid);
  const f = { pid: child.pid, starttime: st?.starttime, count, last: null, history: [], statuses: 0, stderr: '', exited: null };
  let buf = '';
  child.stdout.on('data', (b) => {
    buf += b;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        f.last = JSON.parse(line);
        f.history.push(f.last);
        f.statuses++;
      } catch {}
    }
  });
  child.stderr.on('data', (b) => {
    if (f.stderr.length < 2000) f.stderr += b;
  });
  f.done = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      f.exited = { code, signal };
      resolve();
    }),
  );
  return f;
}
/** `tend ps --json` and `node -e 0` (the machine's floor: a Node start under the same load), alternately, 1 warmup each. */
async function timePs(cfg, dir, runs) {
  const ps = [],
    node = [];
  for (let i = 0; i < runs + 1; i++) {
    const r = await tendCli(['ps', '--json', '-f', cfg], { cwd: dir, timeoutMs: 60000, maxOut: 1 << 20 });
    const n = await runCmdNode();
    if (i === 0) continue; // warmup
    ps.push({ ms: r1(r.ms), code: r.code ?? r.error, err: r.code === 0 ? undefined : r.stderr.trim().slice(0, 200) });
    node.push(r1(n.ms));
  }
  const ok = ps.filter((x) => x.code === 0).map((x) => x.ms);
  const s = summary(ok),
    f = summary(node);
  return {
    runs: ps.length,
    failed: ps.length - ok.length,
    p50: s.p50,
    max: s.max,
    min: s.min,
    samples_ms: ps.map((x) => x.ms),
    failures: ps.filter((x) => x.code !== 0),
    node_e0: { p50: f.p50, max: f.max, samples_ms: node },
  };
}
const runCmdNode = () => runCmd([process.execPath, '-e', '0'], { timeoutMs: 60000 });
const fdCount = (pid) => {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};
async function flood({ trustFloodConns, trustFloodProcs, trustPsRuns }, res) {
  const dir = workdir('trust-flood');
  const port = await freePort();
  const cfg = tendConfig(dir, [markerService(dir, 's0')], { restart: 'always' });
  fs.appendFileSync(cfg, `api: { listen: "127.0.0.1:${port}" }\n`);
  const floodFile = path.join(dir, 'scripts', 'flood.mjs');
  fs.writeFileSync(floodFile, FLOOD);
  Object.assign(res, { port, connections: trustFloodConns, processes: trustFloodProcs, ps_runs: trustPsRuns });
  const d = await up(dir, cfg);
  const { engineLog } = await tendPaths(cfg);
  res.engine_pid = d.engine.pid;
  const floods = [];
  try {
    // the listener is there
    await new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    res.engine_fds_idle = fdCount(d.engine.pid);
    res.ps_no_flood = await timePs(cfg, dir, trustPsRuns);
    log(
      `trust: flood: tend ps --json without the flood: median ${res.ps_no_flood.p50} ms, max ${res.ps_no_flood.max} ms (node -e 0 ${res.ps_no_flood.node_e0.p50} ms)`,
    );
    // the flood
    const per = Math.ceil(trustFloodConns / trustFloodProcs);
    const tStart = nowMs();
    for (let i = 0; i < trustFloodProcs; i++) floods.push(launchFlood(dir, floodFile, port, Math.min(per, trustFloodConns - i * per)));
    const fds = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = fdCount(d.engine.pid);
        if (n !== null) fds.push(n);
        await sleep(200);
      }
    })();
    await waitFor(() => floods.every((f) => f.last?.all_issued_at || f.exited), {
      timeoutMs: 30000,
      everyMs: 20,
      what: 'the flood processes to issue their connects',
    });
    res.flood_ramp_ms = r1(nowMs() - tStart);
    await sleep(1000);
    const cpu0 = { engine: ticks(d.engine), flood: floods.map(ticks) },
      tw0 = nowMs();
    res.ps_flood = await timePs(cfg, dir, trustPsRuns);
    const tw1 = nowMs();
    const cpu1 = { engine: ticks(d.engine), flood: floods.map(ticks) };
    sampling = false;
    await sampler;
    const winS = (tw1 - tw0) / 1000;
    res.window_s = r1(winS);
    res.engine_fds = { max: fds.length ? Math.max(...fds) : null, p50: summary(fds).p50, samples: fds.length };
    res.engine_cpu_pct = cpu0.engine !== null && cpu1.engine !== null ? r1(((cpu1.engine - cpu0.engine) / 100 / winS) * 100) : null;
    res.flood_cpu_pct = r1((floods.reduce((a, _f, i) => a + ((cpu1.flood[i] ?? 0) - (cpu0.flood[i] ?? 0)), 0) / 100 / winS) * 100);
    res.engine_same_pid_throughout = alive(d.engine.pid, d.engine.starttime);
    if (!res.engine_same_pid_throughout)
      res.errors.push(`the engine ${d.engine.pid} was replaced during the flood (engine.log: ${engineLogTrouble(engineLog).join(' | ')})`);
    log(
      `trust: flood: tend ps --json during the flood: median ${res.ps_flood.p50} ms, max ${res.ps_flood.max} ms (${res.ps_flood.failed} failed; node -e 0 ${res.ps_flood.node_e0.p50} ms); engine fds max ${res.engine_fds.max}`,
    );
  } finally {
    for (const f of floods) safeKill(f.pid, 'SIGTERM', f.starttime);
    await Promise.race([Promise.all(floods.map((f) => f.done)), sleep(3000)]);
    for (const f of floods)
      if (alive(f.pid, f.starttime)) {
        safeKill(f.pid, 'SIGKILL', f.starttime);
        res.errors.push(`flood process ${f.pid} needed SIGKILL`);
      }
    await Promise.race([Promise.all(floods.map((f) => f.done)), sleep(3000)]);
    res.flood_processes = floods.map((f) => ({
      pid: f.pid,
      count: f.count,
      exited: f.exited,
      gone: !alive(f.pid, f.starttime),
      reports: f.statuses,
      last: f.last,
      stderr: f.stderr.trim().slice(0, 300) || undefined,
    }));
    res.flood_all_gone = floods.every((f) => !alive(f.pid, f.starttime));
    // over each flooder's life, from its own reports (the last one printed on SIGTERM): a flooder whose event loop is
    // saturated reports seldom, so these are totals and rates over the whole flood, not over the ps window alone
    const per = floods
      .filter((f) => f.last)
      .map((f) => {
        const h = f.history.filter((x) => x.t >= f.last.all_issued_at);
        const held = h.map((x) => x.connected_now + x.connecting_now + x.reopen_queued);
        return {
          span_s: r1((f.last.t - f.last.all_issued_at) / 1000),
          reports: f.statuses,
          connects: f.last.connects,
          closes_established: f.last.closes_established,
          failed_connects: f.last.failed_connects,
          connected_max: Math.max(0, ...h.map((x) => x.connected_now)),
          held_min: held.length ? Math.min(...held) : null,
          at_last_report: { connected: f.last.connected_now, connecting: f.last.connecting_now, reopen_queued: f.last.reopen_queued },
          errors: f.last.errors,
        };
      });
    res.flood = {
      per_process: per,
      connects_per_s: r1(per.reduce((a, x) => a + x.connects / Math.max(0.001, x.span_s), 0)),
      held_min: per.reduce((a, x) => a + (x.held_min ?? 0), 0),
    };
    if (!res.flood_all_gone) res.errors.push('a flood process is still alive');
    res.engine_log_trouble = engineLogTrouble(engineLog);
    const svc = markerPids(dir, 's0').map((pid) => ({ pid, starttime: readStat(pid)?.starttime }));
    res.down = await down(dir, cfg, [d.keeper, d.engine, ...svc]);
    if (res.down.code !== 0) res.errors.push(`tend down exited ${res.down.code}: ${res.down.out}`);
    if (res.down.left_after_15s.length) res.errors.push(`left after down (SIGKILLed): ${res.down.left_after_15s.join(' ')}`);
  }
}

// ---- 3. keeper restart pacing when the engine cannot start ---------------------------------------------
/** Children of pid with `engine` and `--keeper` in their cmdline. */
function engineChildren(pid) {
  let kids = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.filter((k) => {
    try {
      const a = fs.readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0');
      return a.includes('engine') && a.includes('--keeper');
    } catch {
      return false;
    }
  });
}
async function pacing({ trustPacingS }, res) {
  const dir = workdir('trust-pacing');
  const cfg = tendConfig(dir, [markerService(dir, 's0')], { restart: 'always' });
  const logDir = path.join(dir, 'logs');
  res.window_s = trustPacingS;
  const d = await up(dir, cfg);
  const { engineLog } = await tendPaths(cfg);
  const svcPid = markerPids(dir, 's0').at(-1);
  const svc = svcPid ? { pid: svcPid, starttime: readStat(svcPid)?.starttime } : null;
  const mode0 = fs.statSync(logDir).mode & 0o7777;
  res.log_dir_mode_before = mode0.toString(8);
  const seen = new Map(); // engine pid -> ms after the kill it was first seen as the keeper's child
  try {
    fs.chmodSync(logDir, 0o777);
    const tKill = Date.now(),
      t0 = nowMs();
    if (!safeKill(d.engine.pid, 'SIGKILL', d.engine.starttime)) throw new Error(`engine ${d.engine.pid} was not alive to be killed`);
    log(`trust: pacing: log dir chmod 777, engine ${d.engine.pid} SIGKILLed; watching the keeper for ${trustPacingS} s`);
    const psAt = [0.15, 0.45, 0.8];
    res.ps_during = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const pid of engineChildren(d.keeper.pid)) if (!seen.has(pid)) seen.set(pid, r1(nowMs() - t0));
        await sleep(100);
      }
    })();
    for (const [i, f] of psAt.entries()) {
      await sleep(Math.max(0, t0 + f * trustPacingS * 1000 - nowMs()));
      const r = await tendCli(['ps', '-f', cfg], { cwd: dir, timeoutMs: 30000 });
      const text = `${r.stdout}${r.stderr}`;
      const e = {
        at_s: r1((nowMs() - t0) / 1000),
        code: r.code ?? r.error,
        ms: r1(r.ms),
        says_not_running: /engine is not running/i.test(text),
        gives_last_failure: /last failure/i.test(text),
        first_line: text.trim().split('\n')[0].slice(0, 400),
      };
      if (i === 0) {
        const j = await tendCli(['ps', '--json', '-f', cfg], { cwd: dir, timeoutMs: 30000 });
        e.json = { code: j.code ?? j.error, stdout: j.stdout.trim().slice(0, 600) };
      }
      res.ps_during.push(e);
    }
    await sleep(Math.max(0, t0 + trustPacingS * 1000 - nowMs()));
    watching = false;
    await watcher;
    const tEnd = Date.now();
    // engine.log: failures with the delay announced, starts; gaps
    const lines = fs.readFileSync(engineLog, 'utf8').split('\n');
    const evs = [];
    for (const l of lines) {
      const m = l.match(/^(\S+) keeper \d+: (.*)$/);
      if (!m) continue;
      const at = Date.parse(m[1]);
      if (!(at >= tKill - 50 && at <= tEnd)) continue;
      const s = m[2].match(/^engine (\d+) started \((\w+)\)/);
      const f = m[2].match(/^engine (\d+|\(none\)) (failed to start|died) \((.*?)\); starting a new one in (\d+) ms/);
      if (s) evs.push({ kind: 'started', pid: Number(s[1]), reason: s[2], at_ms: at - tKill });
      else if (f) evs.push({ kind: f[2] === 'died' ? 'died' : 'failed', pid: f[1], how: f[3], delay_ms: Number(f[4]), at_ms: at - tKill });
    }
    const starts = evs.filter((e) => e.kind === 'started');
    const gaps = [];
    for (const [i, e] of evs.entries()) {
      if (e.kind === 'started') continue;
      const next = evs.slice(i + 1).find((x) => x.kind === 'started');
      gaps.push({
        engine: e.pid,
        ended: e.kind,
        how: e.how,
        at_s: r1(e.at_ms / 1000),
        delay_announced_ms: e.delay_ms,
        gap_seen_ms: next ? next.at_ms - e.at_ms : null,
      });
    }
    res.delays = gaps;
    res.delays_announced_ms = gaps.map((g) => g.delay_announced_ms);
    res.engine_starts_in_window = starts.length;
    res.engine_start_times_s = starts.map((s) => r1(s.at_ms / 1000));
    res.engine_children_seen = seen.size;
    res.engine_children_first_seen_s = [...seen.values()].map((ms) => r1(ms / 1000));
    res.keeper_alive_through = alive(d.keeper.pid, d.keeper.starttime);
    res.service_same_pid_through = svc ? alive(svc.pid, svc.starttime) : null;
    log(
      `trust: pacing: ${res.engine_starts_in_window} engine starts in ${trustPacingS} s; delays announced ${res.delays_announced_ms.join(', ')} ms; ps exits ${res.ps_during.map((p) => p.code).join(', ')}`,
    );
    // down through the keeper, with the engine still failing
    const live = [d.keeper, svc, ...[...seen.keys()].map((pid) => ({ pid, starttime: readStat(pid)?.starttime }))].filter(
      (p) => p && p.starttime !== undefined,
    );
    const tDown = nowMs();
    const r = await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 60000 });
    res.down = { code: r.code ?? r.error, ms: r1(r.ms), out: `${r.stdout}${r.stderr}`.trim().slice(0, 400) };
    await waitFor(() => !live.some((p) => alive(p.pid, p.starttime)), { timeoutMs: 15000, everyMs: 20 }).then(
      () => {
        res.down.all_gone_ms = r1(nowMs() - tDown);
      },
      () => {},
    );
    res.down.keeper_gone = !alive(d.keeper.pid, d.keeper.starttime);
    res.down.service_gone = svc ? !alive(svc.pid, svc.starttime) : null;
    if (res.down.code !== 0 || !res.down.keeper_gone || !res.down.service_gone)
      res.errors.push(
        `tend down during the failure: exit ${res.down.code}, keeper gone ${res.down.keeper_gone}, service gone ${res.down.service_gone}: ${res.down.out}`,
      );
    res.engine_log_tail = lines
      .filter(Boolean)
      .slice(-6)
      .map((l) => l.slice(0, 300));
  } finally {
    try {
      fs.chmodSync(logDir, mode0);
      res.log_dir_mode_restored = (fs.statSync(logDir).mode & 0o7777).toString(8);
    } catch (e) {
      res.errors.push(`log dir mode not restored: ${e.message}`);
    }
    const left = [d.keeper, svc, ...[...seen.keys()].map((pid) => ({ pid, starttime: readStat(pid)?.starttime }))].filter(
      (p) => p && p.starttime !== undefined && alive(p.pid, p.starttime),
    );
    if (left.length) {
      res.errors.push(`left after the measure (SIGKILLed): ${left.map((p) => p.pid).join(' ')}`);
      for (const p of left) safeKill(p.pid, 'SIGKILL', p.starttime);
    }
  }
}

export async function trust(K) {
  const res = { tend_bin: TEND, errors: [] };
  for (const [name, measure] of [
    ['followers', followers],
    ['flood', flood],
    ['pacing', pacing],
  ]) {
    res[name] = { errors: [] };
    try {
      await measure(K, res[name]);
    } catch (e) {
      res[name].error = e.message;
      res.errors.push(`${name}: ${e.message}`);
      log(`trust: ${name}: ${e.stack}`);
    }
    res.errors.push(...res[name].errors.map((e) => `${name}: ${e}`));
    await sleep(1000);
  }
  return res;
}
