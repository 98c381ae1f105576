// Growth (issue 7): what N services cost as N grows, for detached tend (`tend up -d`: keeper + engine) beside the
// bare-Node floor (floor-supervisor.mjs) and PM2 (when installed at /opt/peers, or PM2_BIN), all in ONE run.
// For each N in BENCH_GROWTH_NS (1, 50, 200, 500, 1000): N marker services (restart: always / PM2 autorestart)
// under each of the three, started one after the other (tend, floor, PM2; 1 s apart), each left running:
//   start_ms  from launching the start command (`tend up -d`, `node floor-supervisor.mjs`, `pm2 start
//             ecosystem.config.js`, each a cold start: its daemon is not running yet) until all N markers
//             exist (readdir of the marker dir every 2 ms, as scale.mjs does); cli_ms = when that command returned
//   memory    once all three run N services and BENCH_GROWTH_SETTLE_S (3 s) have passed, in the same instant:
//             PSS (smaps_rollup) and VmRSS of tend's keeper + engine (engine from /v1/status, keeper = its parent),
//             PM2's daemon (God, PM2_HOME/pm2.pid; fork mode: it is PM2's only process) and the floor process
//   stop_ms   from launching the stop (`tend down`, SIGINT to the floor, `pm2 kill`) until the supervisor's
//             processes have exited AND every one of the N service processes is gone (polled every 5 ms); the
//             three stops run one after the other
// tend's engine.log is read after each stop: engines started, killed as hung, died (a clean run: 1 start, 0, 0).
// Then `up -d` of ONE service: BENCH_GROWTH_ONE_REPS (7) cold `tend up -d` vs cold `pm2 start` of one app (fresh
// runtime dir / PM2_HOME each time; order alternates), command wall time and ms until the marker exists; medians.
// PM2 gets PM2_HOME=<run dir>/.../pm2home (a private daemon), never ~/.pm2; its settings are the peer bench's
// (adapters/pm2.mjs): fork mode, interpreter none, autorestart, restart_delay 0.
// Targets (issue 7; reported met/missed, never an error): start <= 1.2x floor at every N, stop <= 1.5x floor,
// keeper+engine PSS <= PM2's daemon at every N, `up -d` of one service no slower than `pm2 start`.
import fs from 'node:fs';
import path from 'node:path';
import {
  TEND,
  workdir,
  markerService,
  markerPids,
  tendConfig,
  floorConfig,
  launchFloor,
  runCmd,
  tendCli,
  tendPaths,
  tendStatus,
  daemonOf,
  benchEnv,
  alive,
  readStat,
  safeKill,
  memMiB,
  waitFor,
  nowMs,
  sleep,
  median,
  log,
} from './lib.mjs';

export const PM2 = process.env.PM2_BIN || '/opt/peers/node_modules/.bin/pm2';
const r1 = (v) => (typeof v === 'number' ? +v.toFixed(1) : null);

/** Live PIDs among `pids` (start times recorded now); resolves once none is alive. */
function liveSet(pids) {
  return pids
    .map((pid) => readStat(pid))
    .filter((st) => st && st.state !== 'Z' && st.state !== 'X')
    .map((st) => ({ pid: st.pid, starttime: st.starttime }));
}
/** Resolves once every one of procs has exited; each poll reads /proc only up to the first one still alive. */
async function allGone(procs, timeoutMs) {
  const left = [...procs];
  await waitFor(
    () => {
      while (left.length && !alive(left[0].pid, left[0].starttime)) left.shift();
      return left.length === 0;
    },
    { timeoutMs, everyMs: 5, what: `${left.length} processes to exit` },
  );
}
/** SIGKILL (PID + start time) every process of procs still alive; how many were. */
async function killLeft(procs) {
  const live = procs.filter((p) => alive(p.pid, p.starttime));
  for (const p of live) safeKill(p.pid, 'SIGKILL', p.starttime);
  await allGone(live, 10000).catch(() => {});
  return live.length;
}
/** The current service PID of each of n marker services (last line of its marker). */
const currentPids = (dir, n) => Array.from({ length: n }, (_, i) => markerPids(dir, `s${i}`).at(-1)).filter(Boolean);
/** Waits until n markers exist; gives up early once failed() is truthy (e.g. the start command failed). */
const marksReach = (dir, n, timeoutMs, what, failed = () => null) =>
  waitFor(
    () => {
      if (fs.readdirSync(path.join(dir, 'marks')).length >= n) return true;
      const f = failed();
      if (f) throw new Error(`${what}: given up, ${f}`);
      return false;
    },
    { timeoutMs, everyMs: 2, what },
  );
/** What the project's engine.log says happened: engines started, killed as hung, died; uncaught crashes (Node's
 *  "Node.js vX" line after a fatal exception). A clean run has 1 start and nothing else. */
function engineLogCounts(file) {
  let lines;
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return null;
  }
  const c = (re) => lines.filter((l) => re.test(l)).length;
  return {
    engine_starts: c(/engine \d+ started/),
    hung_kills: c(/is hung|did not answer for/),
    engine_deaths: c(/engine \d+ died/),
    uncaught_crashes: c(/^Node\.js v\d+/),
    warnings: c(/warning/),
  };
}
/** Lines of engine.log in the runtime dir that tell why tend failed (hung kills, deaths, stack traces). */
function engineLogEvidence(file) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /is hung|did not answer|died|internal error|Error|EPIPE|exited/.test(l))
      .slice(0, 6)
      .map((l) => l.slice(0, 240));
  } catch {
    return [];
  }
}

// ---- PM2 ------------------------------------------------------------------------------------------
export function pm2Project(dir, services) {
  const home = path.join(dir, 'pm2home');
  const eco = path.join(dir, 'ecosystem.config.js');
  const env = { ...benchEnv(), PM2_HOME: home };
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const apps = services.map((s) => ({
    name: s.name,
    script: s.argv[0],
    args: s.argv.slice(1),
    interpreter: 'none',
    exec_mode: 'fork',
    cwd: dir,
    autorestart: true,
    restart_delay: 0,
    max_restarts: 1000000,
    out_file: path.join(dir, 'logs', `${s.name}.out.log`),
    error_file: path.join(dir, 'logs', `${s.name}.err.log`),
    merge_logs: true,
  }));
  fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps }, null, 1)};\n`);
  const pm2 = (args, timeoutMs = 180000) => runCmd([PM2, ...args], { env, cwd: dir, timeoutMs, maxOut: 1 << 20 });
  const god = () => {
    let pid;
    try {
      pid = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8'));
    } catch {
      return null;
    }
    const st = pid > 1 ? readStat(pid) : null;
    return st && st.state !== 'Z' ? { pid, starttime: st.starttime } : null;
  };
  return { home, eco, env, pm2, god };
}
export const pm2Available = () => (fs.existsSync(PM2) ? null : `${PM2} not found (../shared/peer-bench/install-peers.sh, or PM2_BIN)`);

// ---- one fleet of each kind: start, then stop ---------------------------------------------------------
async function startTend(n, timeoutMs) {
  const dir = workdir(`growth-tend-${n}`);
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const cfg = tendConfig(dir, services, { restart: 'always' });
  const f = { kind: 'tend', dir, n, cfg };
  const t0 = nowMs();
  let upFailed = null;
  const up = tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs }).then((r) => {
    if (r.code !== 0) upFailed = `tend up -d exited ${r.code ?? r.error}`;
    return r;
  });
  try {
    await marksReach(dir, n, timeoutMs, `${n} tend services running`, () => upFailed);
    f.start_ms = r1(nowMs() - t0);
  } catch (e) {
    f.error = e.message;
  }
  const r = await up;
  f.cli_ms = r1(r.ms);
  fs.writeFileSync(path.join(dir, 'up.out'), `${r.stdout}${r.stderr}`);
  if (r.code !== 0)
    f.error = [f.error, `tend up -d exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 300)}`].filter(Boolean).join('; ');
  const { socket } = await tendPaths(cfg);
  const status = await tendStatus(socket, 30000);
  if (status) Object.assign(f, daemonOf(status));
  else f.error = [f.error, 'the API does not answer after up -d'].filter(Boolean).join('; ');
  if (f.error) f.engine_log = engineLogEvidence((await tendPaths(cfg)).engineLog);
  return f;
}
async function stopTend(f, timeoutMs) {
  const services = liveSet(currentPids(f.dir, f.n));
  const daemon = [f.keeper, f.engine].filter(Boolean);
  const t0 = nowMs();
  const r = await tendCli(['down', '-f', f.cfg], { cwd: f.dir, timeoutMs });
  f.stop_cli_ms = r1(r.ms);
  if (r.code !== 0) f.stop_error = `tend down exited ${r.code ?? r.error}: ${r.stderr.trim().split('\n')[0].slice(0, 300)}`;
  const daemonAlive = daemon.some((p) => alive(p.pid, p.starttime));
  if (r.code !== 0 && !daemonAlive) {
    // no keeper and no engine: nothing will end the services (a keeper that died leaves them orphaned)
    await sleep(2000);
    f.services_orphaned = await killLeft(services);
    f.stop_error = `${f.stop_error}; no keeper or engine alive: ${f.services_orphaned} service processes orphaned (SIGKILLed by the bench)`;
    f.engine_log_counts = engineLogCounts((await tendPaths(f.cfg)).engineLog);
    return;
  }
  try {
    await allGone([...daemon, ...services], timeoutMs);
    f.stop_ms = r1(nowMs() - t0);
  } catch (e) {
    f.stop_error = [f.stop_error, e.message].filter(Boolean).join('; ');
    f.services_orphaned = await killLeft(services);
  }
  f.engine_log_counts = engineLogCounts((await tendPaths(f.cfg)).engineLog);
}
async function startFloor(n, timeoutMs) {
  const dir = workdir(`growth-floor-${n}`);
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const cfg = floorConfig(dir, services);
  const t0 = nowMs();
  const proc = launchFloor(dir, cfg, { stdout: '/dev/null' });
  const f = { kind: 'floor', dir, n, proc };
  try {
    await marksReach(dir, n, timeoutMs, `${n} floor services running`);
    f.start_ms = r1(nowMs() - t0);
  } catch (e) {
    f.error = `${e.message}; stderr: ${proc.stderr().slice(0, 300)}`;
  }
  return f;
}
async function stopFloor(f, timeoutMs) {
  const services = liveSet(currentPids(f.dir, f.n));
  const t0 = nowMs();
  safeKill(f.proc.pid, 'SIGINT', f.proc.starttime);
  try {
    await allGone([{ pid: f.proc.pid, starttime: f.proc.starttime }, ...services], timeoutMs);
    f.stop_ms = r1(nowMs() - t0);
  } catch (e) {
    f.stop_error = e.message;
    safeKill(f.proc.pid, 'SIGKILL', f.proc.starttime);
  }
}
async function startPm2(n, timeoutMs) {
  const dir = workdir(`growth-pm2-${n}`);
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const p = pm2Project(dir, services);
  const f = { kind: 'pm2', dir, n, p };
  const t0 = nowMs();
  let startFailed = null;
  const start = p.pm2(['start', p.eco], timeoutMs).then((r) => {
    if (r.code !== 0) startFailed = `pm2 start exited ${r.code ?? r.error}`;
    return r;
  });
  try {
    await marksReach(dir, n, timeoutMs, `${n} PM2 services running`, () => startFailed);
    f.start_ms = r1(nowMs() - t0);
  } catch (e) {
    f.error = e.message;
  }
  const r = await start;
  f.cli_ms = r1(r.ms);
  if (r.code !== 0) f.error = [f.error, `pm2 start exited ${r.code ?? r.error}: ${r.stderr.trim().slice(-300)}`].filter(Boolean).join('; ');
  f.god = p.god();
  return f;
}
async function stopPm2(f, timeoutMs) {
  const services = liveSet(currentPids(f.dir, f.n));
  const god = f.god ?? f.p.god();
  const t0 = nowMs();
  const r = await f.p.pm2(['kill'], timeoutMs);
  f.stop_cli_ms = r1(r.ms);
  if (r.code !== 0) f.stop_error = `pm2 kill exited ${r.code ?? r.error}: ${r.stderr.trim().slice(-300)}`;
  try {
    await allGone([...(god ? [god] : []), ...services], timeoutMs);
    f.stop_ms = r1(nowMs() - t0);
  } catch (e) {
    f.stop_error = [f.stop_error, e.message].filter(Boolean).join('; ');
    if (god) safeKill(god.pid, 'SIGKILL', god.starttime);
  }
}

const mem = (p) => (p && alive(p.pid, p.starttime) ? memMiB(p.pid) : null);
const sumMem = (ms) =>
  ms.every(Boolean) ? { rss: r1(ms.reduce((a, m) => a + m.rss, 0)), pss: r1(ms.reduce((a, m) => a + m.pss, 0)) } : null;
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? +(a / b).toFixed(2) : null);
const verdict = (pass, ...v) => (v.some((x) => typeof x !== 'number') ? '?' : pass ? 'met' : 'MISSED');

/** `up -d` of one service vs `pm2 start` of one app, each cold; reps alternate which goes first. */
async function upOne(reps, withPm2, timeoutMs) {
  const res = { reps, tend: { cli_ms: [], start_ms: [] }, pm2: withPm2 ? { cli_ms: [], start_ms: [] } : null, errors: [] };
  const tendOnce = async (rep) => {
    const dir = workdir(`growth-one-tend-${rep}`);
    const cfg = tendConfig(dir, [markerService(dir, 's0')], { restart: 'always' });
    const t0 = nowMs();
    const up = tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs });
    const seen = marksReach(dir, 1, timeoutMs, 'the tend service').then(
      () => nowMs() - t0,
      () => null,
    );
    const r = await up;
    const s = await seen;
    if (r.code !== 0) res.errors.push(`tend up -d (one service, rep ${rep}) exited ${r.code ?? r.error}: ${r.stderr.trim().slice(0, 200)}`);
    else {
      res.tend.cli_ms.push(r1(r.ms));
      if (s !== null) res.tend.start_ms.push(r1(s));
    }
    const status = await tendStatus((await tendPaths(cfg)).socket, 10000);
    const d = status ? daemonOf(status) : {};
    const svc = liveSet(currentPids(dir, 1));
    const down = await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs });
    if (down.code !== 0) res.errors.push(`tend down (one service, rep ${rep}) exited ${down.code ?? down.error}`);
    await allGone([d.keeper, d.engine, ...svc].filter(Boolean), timeoutMs).catch((e) =>
      res.errors.push(`tend (one service, rep ${rep}): ${e.message}`),
    );
  };
  const pm2Once = async (rep) => {
    const dir = workdir(`growth-one-pm2-${rep}`);
    const p = pm2Project(dir, [markerService(dir, 's0')]);
    const t0 = nowMs();
    const start = p.pm2(['start', p.eco], timeoutMs);
    const seen = marksReach(dir, 1, timeoutMs, 'the PM2 service').then(
      () => nowMs() - t0,
      () => null,
    );
    const r = await start;
    const s = await seen;
    if (r.code !== 0) res.errors.push(`pm2 start (one app, rep ${rep}) exited ${r.code ?? r.error}: ${r.stderr.trim().slice(-200)}`);
    else {
      res.pm2.cli_ms.push(r1(r.ms));
      if (s !== null) res.pm2.start_ms.push(r1(s));
    }
    const god = p.god();
    const svc = liveSet(currentPids(dir, 1));
    await p.pm2(['kill'], timeoutMs);
    await allGone([...(god ? [god] : []), ...svc], timeoutMs).catch((e) => {
      res.errors.push(`pm2 (one app, rep ${rep}): ${e.message}`);
      if (god) safeKill(god.pid, 'SIGKILL', god.starttime);
    });
  };
  for (let rep = 0; rep < reps; rep++) {
    const order = withPm2 && rep % 2 === 1 ? [pm2Once, tendOnce] : withPm2 ? [tendOnce, pm2Once] : [tendOnce];
    for (const once of order) {
      await once(rep);
      await sleep(300);
    }
  }
  for (const k of ['tend', 'pm2'])
    if (res[k]) {
      res[k].cli_ms_p50 = median(res[k].cli_ms);
      res[k].start_ms_p50 = median(res[k].start_ms);
    }
  res.ratio_cli = ratio(res.tend.cli_ms_p50, res.pm2?.cli_ms_p50);
  res.ratio_start = ratio(res.tend.start_ms_p50, res.pm2?.start_ms_p50);
  res.target = 'tend up -d of one service no slower than pm2 start (command wall time, medians)';
  res.verdict = withPm2 ? verdict(res.tend.cli_ms_p50 <= res.pm2.cli_ms_p50, res.tend.cli_ms_p50, res.pm2.cli_ms_p50) : 'not run';
  return res;
}

export async function growth({ growthNs, growthSettleS, growthOneReps }) {
  const pm2Skip = pm2Available();
  const res = {
    tend_bin: TEND,
    ns: growthNs,
    settle_s: growthSettleS,
    pm2: pm2Skip ? { skipped: pm2Skip } : { bin: PM2 },
    per_n: [],
    errors: [],
  };
  if (pm2Skip) log(`growth: PM2 not run: ${pm2Skip}`);
  for (const n of growthNs) {
    const timeoutMs = 60000 + n * 300; // 1000 services: 6 min, for a slow build or PM2
    const row = { n };
    const fleets = [];
    try {
      for (const [kind, start] of [['tend', startTend], ['floor', startFloor], ...(pm2Skip ? [] : [['pm2', startPm2]])]) {
        const f = await start(n, timeoutMs);
        fleets.push(f);
        log(`growth: N=${n} ${kind} all running in ${f.start_ms ?? '?'} ms${f.error ? ` (${f.error})` : ''}`);
        if (f.error) res.errors.push(`N=${n} ${kind} start: ${f.error}`);
        await sleep(1000);
      }
      await sleep(Math.max(0, growthSettleS * 1000 - 1000));
      const by = Object.fromEntries(fleets.map((f) => [f.kind, f]));
      // one instant: every reading one after the other, no await between them
      const m = { keeper: mem(by.tend?.keeper), engine: mem(by.tend?.engine), floor: mem(by.floor?.proc), pm2_god: mem(by.pm2?.god) };
      row.mem_mib = { ...m, tend: sumMem([m.keeper, m.engine]) };
    } catch (e) {
      res.errors.push(`N=${n}: ${e.message}`);
      log(`growth: N=${n}: ${e.stack}`);
    } finally {
      for (const f of fleets) {
        await (f.kind === 'tend' ? stopTend : f.kind === 'floor' ? stopFloor : stopPm2)(f, timeoutMs);
        log(`growth: N=${n} ${f.kind} all stopped in ${f.stop_ms ?? '?'} ms${f.stop_error ? ` (${f.stop_error})` : ''}`);
        if (f.stop_error) res.errors.push(`N=${n} ${f.kind} stop: ${f.stop_error}`);
        const left = currentPids(f.dir, n).filter((pid) => alive(pid));
        if (left.length) res.errors.push(`N=${n} ${f.kind}: ${left.length} services still alive after the stop`);
        row[f.kind] = {
          start_ms: f.start_ms ?? null,
          cli_ms: f.cli_ms ?? null,
          stop_ms: f.stop_ms ?? null,
          stop_cli_ms: f.stop_cli_ms ?? null,
          services_left: left.length,
          ...(f.services_orphaned !== undefined ? { services_orphaned: f.services_orphaned } : {}),
          ...(f.engine_log_counts !== undefined ? { engine_log: f.engine_log_counts } : {}),
          ...(f.error ? { error: f.error } : {}),
          ...(f.stop_error ? { stop_error: f.stop_error } : {}),
          ...(f.engine_log ? { engine_log_evidence: f.engine_log } : {}),
        };
        await sleep(500);
      }
    }
    const t = row.tend ?? {},
      fl = row.floor ?? {},
      mm = row.mem_mib ?? {};
    row.ratio = {
      start: ratio(t.start_ms, fl.start_ms),
      stop: ratio(t.stop_ms, fl.stop_ms),
      pss_vs_pm2: ratio(mm.tend?.pss, mm.pm2_god?.pss),
      start_vs_pm2: ratio(t.start_ms, row.pm2?.start_ms),
      stop_vs_pm2: ratio(t.stop_ms, row.pm2?.stop_ms),
    };
    // tend failing (up -d or down) is a miss, not an unknown
    row.verdict = {
      start: t.error ? 'MISSED' : verdict(row.ratio.start <= 1.2, row.ratio.start),
      stop: t.stop_error ? 'MISSED' : verdict(row.ratio.stop <= 1.5, row.ratio.stop),
      pss: pm2Skip ? 'not run' : t.error && !mm.tend ? 'MISSED' : verdict(row.ratio.pss_vs_pm2 <= 1, row.ratio.pss_vs_pm2),
    };
    res.per_n.push(row);
    log(
      `growth: N=${n} start ${t.start_ms}/${fl.start_ms} ms (${row.ratio.start}x floor), stop ${t.stop_ms}/${fl.stop_ms} ms (${row.ratio.stop}x), PSS tend ${mm.tend?.pss} MiB vs PM2 ${mm.pm2_god?.pss} (${row.ratio.pss_vs_pm2}x), floor ${mm.floor?.pss}`,
    );
  }
  log(`growth: up -d of one service vs pm2 start, ${growthOneReps} reps`);
  res.up_one = await upOne(growthOneReps, !pm2Skip, 60000);
  res.errors.push(...res.up_one.errors.map((e) => `up one: ${e}`));
  const all = (k) => res.per_n.map((r) => r.verdict[k]);
  const agg = (vs) => (vs.includes('?') ? '?' : vs.includes('MISSED') ? 'MISSED' : vs.every((v) => v === 'not run') ? 'not run' : 'met');
  res.verdicts = {
    'start <= 1.2x floor at every N': agg(all('start')),
    'stop <= 1.5x floor at every N': agg(all('stop')),
    'keeper+engine PSS <= PM2 daemon at every N': agg(all('pss')),
    'up -d of one service no slower than pm2 start': res.up_one.verdict,
  };
  return res;
}
