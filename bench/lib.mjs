// Shared plumbing of the bench (no measuring here): knobs, the run's env marker and work dir, /proc
// readers (state letter, parent, start time, CPU ticks, VmRSS/PSS), the marker service, starting and stopping
// tend or the floor supervisor, commands timed by hyperfine, the detached daemon (`up -d`, `down`) and its
// API over the unix socket, stats, the table, and the final sweep of leftovers.
// TEND_BIN=/path/to/dist/main.js measures that build (e.g. a worktree of an older commit) instead of ./dist.
// Methods follow ../shared/peer-bench (lib/proc.mjs, lib/util.mjs): liveness is the state letter in
// /proc/PID/stat (a zombie passes kill(pid, 0)); every signal goes to ONE pid whose start time we
// recorded, never to a name; leftovers are found by the env marker in /proc/*/environ.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);
export const REPO = path.resolve(BENCH_DIR, '..');
/** The tend build measured: TEND_BIN=/path/to/dist/main.js (e.g. a worktree of another commit), else this repo's dist/. */
export const TEND = process.env.TEND_BIN ? path.resolve(process.env.TEND_BIN) : path.join(REPO, 'dist', 'main.js');
/** That build's dist/ (runtime-dir.js and keeper/main.js are read from it). */
export const TEND_DIST = path.dirname(TEND);
export const FLOOR = path.join(BENCH_DIR, 'floor-supervisor.mjs');
export const CLK_TCK = 100; // USER_HZ on Linux

export const QUICK = process.env.QUICK === '1';
/** Number from the environment, or the default (the QUICK default when QUICK=1). */
export const knob = (name, def, quick = def) => {
  const v = process.env[name];
  return v === undefined || v === '' ? (QUICK ? quick : def) : Number(v);
};

/** List of numbers from the environment ("1,50,200"), or the default (the QUICK default when QUICK=1). */
export const knobList = (name, def, quick = def) => {
  const v = process.env[name];
  return v === undefined || v === ''
    ? QUICK
      ? quick
      : def
    : v
        .split(',')
        .map((x) => Number(x.trim()))
        .filter((x) => Number.isFinite(x) && x > 0);
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => performance.now();
/** Wall clock in ms with sub-ms precision (comparable to `date +%s%N`). */
export const wallMs = () => performance.timeOrigin + performance.now();

// ---- the run: env marker and work dir ------------------------------------------------------------
// Not TEND_BENCH_RUN: the peer bench's suite-level leftover check (../shared/peer-bench/lib/leftovers.mjs
// --kill) kills every process carrying that name, whatever the run id, so a peer run would kill this one.
export const ENV_KEY = 'TEND_SELF_BENCH_RUN';
export const RUN_ID = `tend-${process.pid}-${Date.now()}`;
export const RUN_DIR = path.join('/tmp/tend-bench', RUN_ID);
/** Every process the bench starts gets this environment (tend passes it on to its services); tend's
 *  socket, lock and state file go under the run dir (TEND_RUNTIME_DIR), never the user's. */
export const benchEnv = () => ({ ...process.env, [ENV_KEY]: RUN_ID, NO_COLOR: '1', TEND_RUNTIME_DIR: path.join(RUN_DIR, 'runtime') });
export function workdir(tag) {
  const dir = path.join(RUN_DIR, tag);
  fs.mkdirSync(path.join(dir, 'marks'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  return dir;
}

// ---- /proc ---------------------------------------------------------------------------------------
/** Parsed /proc/PID/stat or null when gone: state letter, parent, start time, utime+stime in ticks. */
export function readStat(pid) {
  let s;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const close = s.lastIndexOf(')');
  const f = s.slice(close + 2).split(' '); // f[0] is field 3
  return {
    pid,
    comm: s.slice(s.indexOf('(') + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    starttime: Number(f[19]),
    ticks: Number(f[11]) + Number(f[12]),
  };
}
/** Alive = in /proc, not a zombie (Z/X), and (if given) the same start time. */
export function alive(pid, starttime) {
  const st = readStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && (starttime === undefined || st.starttime === starttime);
}
/** Signal one PID, only if it is still the process we recorded. */
export function safeKill(pid, sig, starttime) {
  if (!pid || pid <= 1 || pid === process.pid || !alive(pid, starttime)) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
/** CPU seconds (utime+stime) of one process, or null when it is not the one we recorded. */
export function cpuS(p) {
  const st = readStat(p.pid);
  return st && st.starttime === p.starttime ? st.ticks / CLK_TCK : null;
}
/** Memory in MiB: VmRSS and VmHWM from status, Pss from smaps_rollup (shared pages split among users). */
export function memMiB(pid) {
  let s = '',
    r = '';
  try {
    s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    r = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const g = (txt, k) => {
    const m = txt.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : null;
  };
  return { rss: g(s, 'VmRSS'), hwm: g(s, 'VmHWM'), anon: g(s, 'RssAnon'), pss: g(r, 'Pss') };
}

/** Poll cond() every everyMs until truthy; throws after timeoutMs. */
export async function waitFor(cond, { timeoutMs = 10000, everyMs = 5, what = 'condition' } = {}) {
  const t0 = nowMs();
  for (;;) {
    const v = cond();
    if (v) return v;
    if (nowMs() - t0 > timeoutMs) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- marker services -----------------------------------------------------------------------------
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
/** Writes scripts/<name>.sh; returns { name, argv }. */
export function script(dir, name, body) {
  const file = path.join(dir, 'scripts', `${name}.sh`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}`, { mode: 0o755 });
  return { name, argv: ['/bin/sh', file] };
}
/** Marker service: appends its PID with a shell builtin (no fork), then becomes `sleep`. */
export const markerService = (dir, name) => script(dir, name, `echo $$ >> ${q(path.join(dir, 'marks', name))}\nexec sleep 100000\n`);
/** PIDs a marker service appended, one per start. */
export function markerPids(dir, name) {
  try {
    return fs
      .readFileSync(path.join(dir, 'marks', name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
/** Resolves with nowMs() once the marker holds >= n lines: inotify on the dir plus a 2 ms poll backstop. */
export function markerReaches(dir, name, n, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, t) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      watcher.close();
      err ? reject(err) : resolve(t);
    };
    const check = () => {
      if (markerPids(dir, name).length >= n) finish(null, nowMs());
    };
    const watcher = fs.watch(path.join(dir, 'marks'), check);
    const poll = setInterval(check, 2);
    const timer = setTimeout(() => finish(new Error(`${name}: no start #${n} within ${timeoutMs} ms`)), timeoutMs);
    check();
  });
}

// ---- supervisors under test ----------------------------------------------------------------------
/** YAML as a user writes it: block maps down to each service, flow `[...]` / `{ k: v }` below; scalars JSON-quoted. */
const flow = (v) =>
  Array.isArray(v)
    ? `[${v.map(flow).join(', ')}]`
    : v && typeof v === 'object'
      ? `{ ${Object.entries(v)
          .map(([k, x]) => `${k}: ${flow(x)}`)
          .join(', ')} }`
      : JSON.stringify(v);
const yaml = (o, depth = 0) =>
  Object.entries(o)
    .map(
      ([k, v]) =>
        `${'  '.repeat(depth)}${k}:${v && typeof v === 'object' && !Array.isArray(v) && depth < 2 ? `\n${yaml(v, depth + 1)}` : ` ${flow(v)}\n`}`,
    )
    .join('');
/** <dir>/tend.yaml for services [{name, argv}], each with the `common` keys. */
export function tendConfig(dir, services, common) {
  const file = path.join(dir, 'tend.yaml');
  fs.writeFileSync(
    file,
    yaml({
      log_dir: path.join(dir, 'logs'),
      services: Object.fromEntries(services.map(({ name, argv }) => [name, { command: argv, ...common }])),
    }),
  );
  return file;
}
/** Config of floor-supervisor.mjs. */
export function floorConfig(dir, services) {
  const file = path.join(dir, 'floor.json');
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ log_dir: path.join(dir, 'logs'), services }));
  return file;
}
/**
 * Launch a supervisor (node + args, or `cmd` + args) with the bench env; its stdout goes to `stdout` (a file path or
 * /dev/null), stderr to <dir>/<tag>.err. Returns { child, pid, starttime, exited: Promise<{code, signal, at}> }.
 */
export function launch(dir, tag, args, { stdout = path.join(dir, `${tag}.out`), cmd = process.execPath } = {}) {
  const out = fs.openSync(stdout, 'a');
  const err = fs.openSync(path.join(dir, `${tag}.err`), 'a');
  const child = spawn(cmd, args, { cwd: dir, env: benchEnv(), stdio: ['ignore', out, err] });
  fs.closeSync(out);
  fs.closeSync(err);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: nowMs() })));
  const st = readStat(child.pid);
  return {
    tag,
    dir,
    child,
    pid: child.pid,
    starttime: st?.starttime,
    exited,
    stderr: () => {
      try {
        return fs.readFileSync(path.join(dir, `${tag}.err`), 'utf8').trim();
      } catch {
        return '';
      }
    },
  };
}
export const launchTend = (dir, cfg, opts) => launch(dir, 'tend', [TEND, 'up', '-f', cfg], opts);
export const launchFloor = (dir, cfg, opts) => launch(dir, 'floor', [FLOOR, cfg], opts);
/** SIGINT (by PID + start time) and wait for the exit; ms from the signal to the exit. SIGKILL after timeoutMs. */
export async function stopProc(p, timeoutMs = 30000) {
  const { exitCode, signalCode } = p.child;
  if (exitCode !== null || signalCode !== null)
    return { ms: null, code: exitCode, error: `${p.tag} had already exited (${signalCode ?? `code ${exitCode}`}) before SIGINT` };
  const t0 = nowMs();
  safeKill(p.pid, 'SIGINT', p.starttime);
  const timer = sleep(timeoutMs).then(() => null);
  const r = await Promise.race([p.exited, timer]);
  if (r === null) {
    safeKill(p.pid, 'SIGKILL', p.starttime);
    await p.exited;
    return { ms: null, error: `no exit within ${timeoutMs} ms of SIGINT (SIGKILLed)` };
  }
  return { ms: +(r.at - t0).toFixed(1), code: r.code, signal: r.signal };
}

// ---- commands, the detached daemon and its API ----------------------------------------------------
/** Run argv to completion with the bench env, stdout and stderr collected (stdout up to maxOut bytes,
 *  all counted); SIGKILL (by PID + start time) after timeoutMs. Never rejects: { code, signal, ms, stdout, stdoutBytes, stderr, error }.
 *  stdoutFile: stdout goes to that file instead of a pipe (tend exits with process.exit(): what a pipe
 *  has not taken by then is lost), read back at the end. readDelayMs: the pipe is read only that late. */
export function runCmd(argv, { env = benchEnv(), cwd, timeoutMs = 60000, maxOut = 4 << 20, stdoutFile, readDelayMs = 0 } = {}) {
  return new Promise((resolve) => {
    const t0 = nowMs();
    const fd = stdoutFile ? fs.openSync(stdoutFile, 'w') : null;
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
    if (fd !== null) fs.closeSync(fd);
    const st = readStat(child.pid);
    const out = [],
      err = [];
    let outBytes = 0,
      timedOut = false,
      settled = false;
    if (child.stdout) {
      child.stdout.on('data', (b) => {
        if (outBytes < maxOut) out.push(b);
        outBytes += b.length;
      });
      if (readDelayMs > 0) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), readDelayMs);
      }
    }
    child.stderr.on('data', (b) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      safeKill(child.pid, 'SIGKILL', st?.starttime);
    }, timeoutMs);
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ms = nowMs() - t0;
      let stdout = Buffer.concat(out);
      if (stdoutFile) {
        try {
          stdout = fs.readFileSync(stdoutFile);
        } catch {}
        outBytes = stdout.length;
      }
      resolve({
        ms,
        stdout: stdout.toString(),
        stdoutBytes: outBytes,
        stderr: Buffer.concat(err).toString(),
        ...r,
        ...(timedOut ? { error: `timed out after ${timeoutMs} ms` } : {}),
      });
    };
    child.once('error', (e) => finish({ code: null, signal: null, error: e.message }));
    child.once('close', (code, signal) => finish({ code, signal }));
  });
}
export const tendCli = (args, opts) => runCmd([process.execPath, TEND, ...args], opts);
/** Absolute path of a command on PATH, or null. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}
export const HYPERFINE = which('hyperfine');

/**
 * Wall time of whole commands, process start included: `hyperfine -N` (no shell; its output to /dev/null)
 * when installed, else a spawn-and-wait loop. cmds: [{ name, argv }], all run with `env`. Returns
 * { tool, results: { [name]: { n, min, p50, p90, p99, max, mean, samples_ms } } }; throws when a command fails.
 */
export async function timeCommands(cmds, { runs, warmup = 1, env = benchEnv(), dir, tag }) {
  const stats = (ms) => ({ ...summary(ms), mean: r2(ms.reduce((a, v) => a + v, 0) / ms.length), samples_ms: ms.map((v) => +v.toFixed(2)) });
  if (HYPERFINE) {
    const json = path.join(dir, `${tag}.hyperfine.json`);
    const args = ['-N', '--warmup', String(warmup), '--runs', String(runs), '--style', 'none', '--export-json', json];
    for (const c of cmds) args.push('--command-name', c.name);
    args.push(...cmds.map((c) => c.argv.map(q).join(' ')));
    const r = await runCmd([HYPERFINE, ...args], { env, cwd: dir, timeoutMs: 600000 });
    if (r.code !== 0) throw new Error(`hyperfine (${tag}) exited ${r.code ?? r.error}: ${r.stderr.trim().slice(-400)}`);
    const doc = JSON.parse(fs.readFileSync(json, 'utf8'));
    return {
      tool: `hyperfine -N --warmup ${warmup} --runs ${runs}`,
      results: Object.fromEntries(doc.results.map((x, i) => [cmds[i].name, stats(x.times.map((t) => t * 1000))])),
    };
  }
  const results = {};
  for (const c of cmds) {
    const ms = [];
    for (let i = 0; i < warmup + runs; i++) {
      const r = await runCmd(c.argv, { env, cwd: dir, maxOut: 0 });
      if (r.code !== 0) throw new Error(`${c.name} exited ${r.code ?? r.error}: ${r.stderr.trim().slice(-300)}`);
      if (i >= warmup) ms.push(r.ms);
    }
    results[c.name] = stats(ms);
  }
  return { tool: `spawn loop (no hyperfine), ${warmup} warmup + ${runs} runs`, results };
}

/** One GET over the unix socket with keep-alive off (agent: false), as the CLI does. Never rejects:
 *  { ok, status, ms (request -> last body byte), at (nowMs() then), body, error }. */
export function apiGet(socketPath, urlPath = '/v1/status', timeoutMs = 5000) {
  return new Promise((resolve) => {
    const t0 = nowMs();
    let settled = false;
    const done = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const at = nowMs();
      resolve({ ms: at - t0, at, ...r });
    };
    const req = http.request({ socketPath, path: urlPath, method: 'GET', agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ ok: res.statusCode === 200, status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
    });
    const timer = setTimeout(() => {
      done({ ok: false, error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}
/** GET /v1/status parsed ({ engine, units }), or null when the engine does not answer. */
export async function tendStatus(socketPath, timeoutMs) {
  const r = await apiGet(socketPath, '/v1/status', timeoutMs);
  if (!r.ok) return null;
  try {
    return JSON.parse(r.body.toString());
  } catch {
    return null;
  }
}
/** The project's runtime paths (socket, ...) as tend derives them, with the bench env. */
export async function tendPaths(cfg) {
  const { projectPaths } = await import(path.join(TEND_DIST, 'runtime', 'runtime-dir.js'));
  return projectPaths(cfg, benchEnv());
}
/** Engine and keeper (the engine's parent) as { pid, starttime }, from a status answer and /proc. */
export function daemonOf(status) {
  const e = readStat(status.engine.pid);
  const k = e && readStat(e.ppid);
  return { engine: e && { pid: e.pid, starttime: e.starttime }, keeper: k && { pid: k.pid, starttime: k.starttime } };
}
/** `tend up -d -f cfg` (returns once every service has started); output kept in <dir>/up.out.
 *  Returns { ms, socket, status, engine, keeper }; throws when it fails. */
export async function upDetached(dir, cfg) {
  const r = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  fs.writeFileSync(path.join(dir, 'up.out'), `${r.stdout}${r.stderr}`);
  if (r.code !== 0) throw new Error(`tend up -d exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 300)}`);
  const { socket } = await tendPaths(cfg);
  const status = await tendStatus(socket);
  if (!status) throw new Error('tend up -d returned but the API does not answer');
  return { ms: +r.ms.toFixed(1), socket, status, ...daemonOf(status) };
}
/** `tend down -f cfg`; if that fails, SIGTERM to the keeper (PID + start time). Then waits (bounded) until
 *  keeper and engine are gone. Returns { ms, code, error? }. */
export async function downDetached(dir, cfg, d) {
  const r = await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 60000 });
  const res = { ms: +r.ms.toFixed(1), code: r.code };
  if (r.code !== 0) {
    res.error = `tend down exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 300)}`;
    if (d?.keeper) safeKill(d.keeper.pid, 'SIGTERM', d.keeper.starttime);
  }
  const gone = () => ![d?.keeper, d?.engine].some((p) => p && alive(p.pid, p.starttime));
  try {
    await waitFor(gone, { timeoutMs: 15000, everyMs: 20, what: 'keeper and engine to exit' });
  } catch (e) {
    res.error = [res.error, e.message].filter(Boolean).join('; ');
  }
  return res;
}
/** A free TCP port on 127.0.0.1 (bound, read, released). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// ---- stats, table, sweep -------------------------------------------------------------------------
const r2 = (v) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 100) / 100);
/** Nearest-rank percentiles. */
export function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const qt = (p) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : null);
  return { n: s.length, min: r2(s[0]), p50: r2(qt(0.5)), p90: r2(qt(0.9)), p99: r2(qt(0.99)), max: r2(s.at(-1)) };
}
export const median = (xs) => summary(xs.filter((x) => typeof x === 'number')).p50;

export function table(rows, cols) {
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals) =>
    vals
      .map((v, i) => String(v ?? '').padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [line(cols), line(w.map((n) => '-'.repeat(n))), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

export const log = (...a) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

/** Processes (not zombies) carrying this run's env marker: SIGKILLed by PID, start time checked. */
export async function sweep() {
  const needle = `${ENV_KEY}=${RUN_ID}`;
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let env;
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.split('\0').includes(needle)) continue;
    const st = readStat(pid);
    if (st && st.state !== 'Z' && st.state !== 'X') found.push(st);
  }
  for (const st of found) safeKill(st.pid, 'SIGKILL', st.starttime);
  if (found.length) await sleep(100);
  return found.map((st) => `${st.pid}:${st.comm}`);
}
