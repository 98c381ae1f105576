// Shared plumbing of the bench (no measuring here): knobs, the run's env marker and work dir, /proc
// readers (state letter, start time, CPU ticks, VmRSS/PSS), the marker service, starting and stopping
// tend or the floor supervisor, stats, the table, and the final sweep of leftovers.
// Methods follow ../shared/peer-bench (lib/proc.mjs, lib/util.mjs): liveness is the state letter in
// /proc/PID/stat (a zombie passes kill(pid, 0)); every signal goes to ONE pid whose start time we
// recorded, never to a name; leftovers are found by the env marker in /proc/*/environ.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);
export const REPO = path.resolve(BENCH_DIR, '..');
export const TEND = path.join(REPO, 'dist', 'main.js');
export const FLOOR = path.join(BENCH_DIR, 'floor-supervisor.mjs');
export const CLK_TCK = 100; // USER_HZ on Linux

export const QUICK = process.env.QUICK === '1';
/** Number from the environment, or the default (the QUICK default when QUICK=1). */
export const knob = (name, def, quick = def) => {
  const v = process.env[name];
  return v === undefined || v === '' ? (QUICK ? quick : def) : Number(v);
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => performance.now();
/** Wall clock in ms with sub-ms precision (comparable to `date +%s%N`). */
export const wallMs = () => performance.timeOrigin + performance.now();

// ---- the run: env marker and work dir ------------------------------------------------------------
export const ENV_KEY = 'TEND_BENCH_RUN';
export const RUN_ID = `tend-${process.pid}-${Date.now()}`;
/** Every process the bench starts gets this environment (tend passes it on to its services). */
export const benchEnv = () => ({ ...process.env, [ENV_KEY]: RUN_ID, NO_COLOR: '1' });
export const RUN_DIR = path.join('/tmp/tend-bench', RUN_ID);
export function workdir(tag) {
  const dir = path.join(RUN_DIR, tag);
  fs.mkdirSync(path.join(dir, 'marks'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  return dir;
}

// ---- /proc ---------------------------------------------------------------------------------------
/** Parsed /proc/PID/stat or null when gone: state letter, start time, utime+stime in ticks. */
export function readStat(pid) {
  let s;
  try { s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return null; }
  const close = s.lastIndexOf(')');
  const f = s.slice(close + 2).split(' '); // f[0] is field 3
  return { pid, comm: s.slice(s.indexOf('(') + 1, close), state: f[0], starttime: Number(f[19]), ticks: Number(f[11]) + Number(f[12]) };
}
/** Alive = in /proc, not a zombie (Z/X), and (if given) the same start time. */
export function alive(pid, starttime) {
  const st = readStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && (starttime === undefined || st.starttime === starttime);
}
/** Signal one PID, only if it is still the process we recorded. */
export function safeKill(pid, sig, starttime) {
  if (!pid || pid <= 1 || pid === process.pid || !alive(pid, starttime)) return false;
  try { process.kill(pid, sig); return true; } catch { return false; }
}
/** CPU seconds (utime+stime) of one process, or null when it is not the one we recorded. */
export function cpuS(p) {
  const st = readStat(p.pid);
  return st && st.starttime === p.starttime ? st.ticks / CLK_TCK : null;
}
/** Memory in MiB: VmRSS and VmHWM from status, Pss from smaps_rollup (shared pages split among users). */
export function memMiB(pid) {
  let s = '', r = '';
  try { s = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); r = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'); } catch { return null; }
  const g = (txt, k) => { const m = txt.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')); return m ? +(Number(m[1]) / 1024).toFixed(1) : null; };
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
  try { return fs.readFileSync(path.join(dir, 'marks', name), 'utf8').split('\n').filter(Boolean).map(Number); } catch { return []; }
}
/** Resolves with nowMs() once the marker holds >= n lines: inotify on the dir plus a 2 ms poll backstop. */
export function markerReaches(dir, name, n, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, t) => {
      if (done) return;
      done = true; clearInterval(poll); clearTimeout(timer); watcher.close();
      err ? reject(err) : resolve(t);
    };
    const check = () => { if (markerPids(dir, name).length >= n) finish(null, nowMs()); };
    const watcher = fs.watch(path.join(dir, 'marks'), check);
    const poll = setInterval(check, 2);
    const timer = setTimeout(() => finish(new Error(`${name}: no start #${n} within ${timeoutMs} ms`)), timeoutMs);
    check();
  });
}

// ---- supervisors under test ----------------------------------------------------------------------
/** YAML as a user writes it: block maps down to each service, flow `[...]` / `{ k: v }` below; scalars JSON-quoted. */
const flow = (v) => (Array.isArray(v) ? `[${v.map(flow).join(', ')}]` : v && typeof v === 'object' ? `{ ${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(', ')} }` : JSON.stringify(v));
const yaml = (o, depth = 0) => Object.entries(o).map(([k, v]) => `${'  '.repeat(depth)}${k}:${v && typeof v === 'object' && !Array.isArray(v) && depth < 2 ? `\n${yaml(v, depth + 1)}` : ` ${flow(v)}\n`}`).join('');
/** <dir>/tend.yaml for services [{name, argv}], each with the `common` keys. */
export function tendConfig(dir, services, common) {
  const file = path.join(dir, 'tend.yaml');
  fs.writeFileSync(file, yaml({ log_dir: path.join(dir, 'logs'), services: Object.fromEntries(services.map(({ name, argv }) => [name, { command: argv, ...common }])) }));
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
 * Launch a supervisor (node + args) with the bench env; its stdout goes to `stdout` (a file path or
 * /dev/null), stderr to <dir>/<tag>.err. Returns { child, pid, starttime, exited: Promise<{code, signal, at}> }.
 */
export function launch(dir, tag, args, { stdout = path.join(dir, `${tag}.out`) } = {}) {
  const out = fs.openSync(stdout, 'a');
  const err = fs.openSync(path.join(dir, `${tag}.err`), 'a');
  const child = spawn(process.execPath, args, { cwd: dir, env: benchEnv(), stdio: ['ignore', out, err] });
  fs.closeSync(out); fs.closeSync(err);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: nowMs() })));
  const st = readStat(child.pid);
  return { tag, dir, child, pid: child.pid, starttime: st?.starttime, exited, stderr: () => { try { return fs.readFileSync(path.join(dir, `${tag}.err`), 'utf8').trim(); } catch { return ''; } } };
}
export const launchTend = (dir, cfg, opts) => launch(dir, 'tend', [TEND, 'up', '-f', cfg], opts);
export const launchFloor = (dir, cfg, opts) => launch(dir, 'floor', [FLOOR, cfg], opts);
/** SIGINT (by PID + start time) and wait for the exit; ms from the signal to the exit. SIGKILL after timeoutMs. */
export async function stopProc(p, timeoutMs = 30000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return { ms: 0, code: p.child.exitCode, error: 'had already exited' };
  const t0 = nowMs();
  safeKill(p.pid, 'SIGINT', p.starttime);
  const timer = sleep(timeoutMs).then(() => null);
  const r = await Promise.race([p.exited, timer]);
  if (r === null) { safeKill(p.pid, 'SIGKILL', p.starttime); await p.exited; return { ms: null, error: `no exit within ${timeoutMs} ms of SIGINT (SIGKILLed)` }; }
  return { ms: +(r.at - t0).toFixed(1), code: r.code, signal: r.signal };
}

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
  const line = (vals) => vals.map((v, i) => String(v ?? '').padEnd(w[i])).join('  ').trimEnd();
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
    try { env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1'); } catch { continue; }
    if (!env.split('\0').includes(needle)) continue;
    const st = readStat(pid);
    if (st && st.state !== 'Z' && st.state !== 'X') found.push(st);
  }
  for (const st of found) safeKill(st.pid, 'SIGKILL', st.starttime);
  if (found.length) await sleep(100);
  return found.map((st) => `${st.pid}:${st.comm}`);
}
