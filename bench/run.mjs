// `npm run bench` (after `npm run build`): tend's respawn latency, log throughput, and the cost of N
// services, each next to a floor measured in the same run, against the issue's targets. Prints a
// table on stderr and writes one JSON document to bench/results/<UTC time>.json (path printed).
// Every process started carries TEND_SELF_BENCH_RUN=<run id>; the run ends with a sweep of /proc for it
// (SIGKILL by PID, start time checked); leftovers or errors -> exit 1 (a missed target is not an error).
// Knobs: QUICK=1 (~35 s smoke run: 50 kills, 1 log rep, 10 s idle, no peers; a full run is ~130 s), BENCH_KILLS (200), BENCH_GAP_MS (30),
// BENCH_LOG_LINES (1000000), BENCH_LOG_REPS (3), BENCH_SCALE_N (200), BENCH_IDLE_S (60),
// KEEP_TMP=1 (keep /tmp/tend-bench/<run>). Figures and their reading: bench/RESULTS.md.
// Control plane (issue 3, control.mjs): BENCH_PS_RUNS (20, QUICK 10), BENCH_API_REQS (500, QUICK 200),
// BENCH_LOGS_RUNS (10, QUICK 5), BENCH_LOGS_MB (200), BENCH_PEERS (1, QUICK 0: PM2 and supervisord fleets).
// Self-supervision (issue 4, selfsup.mjs): BENCH_ENGINE_KILLS (20, QUICK 5), BENCH_RACE_KILLS (10, QUICK 5;
// kills with 12 concurrent pollers; keep the two <= 30 in all), BENCH_MEM_SETTLE_S (15, QUICK 3).
// Growth (issue 7, growth.mjs): BENCH_GROWTH_NS (1,50,200,500,1000; QUICK 1,50), BENCH_GROWTH_SETTLE_S (3, QUICK 1),
// BENCH_GROWTH_ONE_REPS (7, QUICK 3); PM2 from /opt/peers (PM2_BIN) when installed.
// Quota (issue 7, quota.mjs; root, cgroup v1 cpu): BENCH_QUOTA_N (200; a list "200,500" runs each), BENCH_QUOTA_RUNS
// (10, QUICK 2), BENCH_QUOTA_US (20000 of a 100000 us period = 20% of one core), BENCH_QUOTA_SAMPLE_MS (500).
// Trust (issue 8, trust.mjs): BENCH_TRUST_FOLLOW_S (20, QUICK 10), BENCH_TRUST_BASE_S (5), BENCH_TRUST_FOLLOWERS (100),
// BENCH_TRUST_FLOOD_CONNS (20000), BENCH_TRUST_FLOOD_PROCS (2), BENCH_TRUST_PS_RUNS (10), BENCH_TRUST_PACING_S (40, QUICK 20).
// TEND_BIN=/path/to/dist/main.js measures another build (run `node bench/run.mjs` then: `npm run bench` builds ./dist).
// Probes (issue 10, probes.mjs): BENCH_PROBES_N (200), BENCH_PROBES_SETTLE_S (5, QUICK 2), BENCH_PROBES_WINDOW_S (60, QUICK 15).
// Health (issue 10, health.mjs): BENCH_HEALTH_CYCLES (50, QUICK 15), BENCH_HEALTH_SICK_MS (300), BENCH_HEALTH_LAYERS (5),
// BENCH_HEALTH_WIDTH (10), BENCH_HEALTH_LATE_MS (1000).
// Dashboard (issue 12, dashboard.mjs): BENCH_DASH_N (200), BENCH_DASH_WRITERS (20), BENCH_DASH_RATE (10000 lines/s), BENCH_DASH_CLIENTS (5),
// BENCH_DASH_SETTLE_S (5, QUICK 2), BENCH_DASH_WINDOW_S (30, QUICK 10), BENCH_DASH_PAGE_RUNS (5, QUICK 2).
// BENCH_ONLY=control,selfsup runs only the measures named (respawn, logs, scale, control, selfsup, growth, quota, trust, probes, health, dashboard).
// The measures: respawn.mjs, logs.mjs, scale.mjs, control.mjs, selfsup.mjs, growth.mjs, quota.mjs, trust.mjs (each file's header says how);
// floors: floor-supervisor.mjs, api-floor.mjs; the upgrade measure's service: http-service.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { BENCH_DIR, TEND, QUICK, RUN_ID, RUN_DIR, knob, knobList, median, table, sweep, log } from './lib.mjs';
import { respawn } from './respawn.mjs';
import { logs } from './logs.mjs';
import { scale } from './scale.mjs';
import { control } from './control.mjs';
import { selfsup } from './selfsup.mjs';
import { growth } from './growth.mjs';
import { quota } from './quota.mjs';
import { probes } from './probes.mjs';
import { health } from './health.mjs';
import { trust } from './trust.mjs';
import { dashboard } from './dashboard.mjs';

const K = {
  kills: knob('BENCH_KILLS', 200, 50),
  gapMs: knob('BENCH_GAP_MS', 30),
  lines: knob('BENCH_LOG_LINES', 1_000_000),
  reps: knob('BENCH_LOG_REPS', 3, 1),
  n: knob('BENCH_SCALE_N', 200),
  idleS: knob('BENCH_IDLE_S', 60, 10),
  psRuns: knob('BENCH_PS_RUNS', 20, 10),
  apiReqs: knob('BENCH_API_REQS', 500, 200),
  logsRuns: knob('BENCH_LOGS_RUNS', 10, 5),
  logsMb: knob('BENCH_LOGS_MB', 200),
  logsServices: 10,
  peers: knob('BENCH_PEERS', 1, 0),
  engineKills: knob('BENCH_ENGINE_KILLS', 20, 5),
  raceKills: knob('BENCH_RACE_KILLS', 10, 5),
  memSettleS: knob('BENCH_MEM_SETTLE_S', 15, 3),
  growthNs: knobList('BENCH_GROWTH_NS', [1, 50, 200, 500, 1000], [1, 50]),
  growthSettleS: knob('BENCH_GROWTH_SETTLE_S', 3, 1),
  growthOneReps: knob('BENCH_GROWTH_ONE_REPS', 7, 3),
  quotaNs: knobList('BENCH_QUOTA_N', [200]),
  quotaRuns: knob('BENCH_QUOTA_RUNS', 10, 2),
  quotaUs: knob('BENCH_QUOTA_US', 20000),
  quotaSampleMs: knob('BENCH_QUOTA_SAMPLE_MS', 500),
  trustFollowS: knob('BENCH_TRUST_FOLLOW_S', 20, 10),
  trustBaseS: knob('BENCH_TRUST_BASE_S', 5),
  trustFollowers: knob('BENCH_TRUST_FOLLOWERS', 100),
  trustFloodConns: knob('BENCH_TRUST_FLOOD_CONNS', 20000),
  trustFloodProcs: knob('BENCH_TRUST_FLOOD_PROCS', 2),
  trustPsRuns: knob('BENCH_TRUST_PS_RUNS', 10),
  trustPacingS: knob('BENCH_TRUST_PACING_S', 40, 20),
  probesN: knob('BENCH_PROBES_N', 200),
  probesSettleS: knob('BENCH_PROBES_SETTLE_S', 5, 2),
  probesWindowS: knob('BENCH_PROBES_WINDOW_S', 60, 15),
  healthCycles: knob('BENCH_HEALTH_CYCLES', 50, 15),
  healthSickMs: knob('BENCH_HEALTH_SICK_MS', 300),
  healthLayers: knob('BENCH_HEALTH_LAYERS', 5),
  healthWidth: knob('BENCH_HEALTH_WIDTH', 10),
  healthLateMs: knob('BENCH_HEALTH_LATE_MS', 1000),
  dashN: knob('BENCH_DASH_N', 200),
  dashWriters: knob('BENCH_DASH_WRITERS', 20),
  dashRate: knob('BENCH_DASH_RATE', 10000),
  dashClients: knob('BENCH_DASH_CLIENTS', 5),
  dashSettleS: knob('BENCH_DASH_SETTLE_S', 5, 2),
  dashWindowS: knob('BENCH_DASH_WINDOW_S', 30, 10),
  dashPageRuns: knob('BENCH_DASH_PAGE_RUNS', 5, 2),
};
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
if (!fs.existsSync(TEND)) {
  console.error(`bench: ${TEND} is missing; run \`npm run build\` first`);
  process.exit(1);
}

const started = new Date();
const doc = {
  date: started.toISOString(),
  run_id: RUN_ID,
  quick: QUICK,
  knobs: K,
  machine: {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    mem_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    loadavg_start: os.loadavg().map((v) => +v.toFixed(2)),
  },
  tend_bin: TEND,
  // the git state of the build measured (TEND_BIN may point into another worktree)
  git: (() => {
    try {
      return execFileSync('git', ['-C', path.dirname(TEND), 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })(),
  leftovers: {},
};
// The tree is often dirty while others work: fingerprint the dist/ that was measured.
doc.dist_sha256 = (() => {
  const h = createHash('sha256');
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.js')) h.update(p).update(fs.readFileSync(p));
    }
  };
  walk(path.dirname(TEND));
  return h.digest('hex').slice(0, 16);
})();
const leftovers = async (stage) => {
  doc.leftovers[stage] = await sweep();
  if (doc.leftovers[stage].length) log(`LEFTOVERS after ${stage}: ${doc.leftovers[stage].join(' ')}`);
};

log(`tend bench ${RUN_ID}${QUICK ? ' (QUICK)' : ''}: ${JSON.stringify(K)}`);
const measures = [
  ['respawn', respawn, `${K.kills} kills each (tend, floor), ${K.gapMs} ms after each start`],
  ['logs', logs, `${K.lines} lines x 100 B, ${K.reps} rep(s)`],
  ['scale', scale, `${K.n} services, idle ${K.idleS} s`],
  [
    'control',
    control,
    `tend up -d with ${K.n} services: ps x ${K.psRuns}, API x ${K.apiReqs}, logs -n 1000 over ${K.logsMb} MB x ${K.logsRuns}${K.peers ? ', PM2 + supervisord' : ''}`,
  ],
  [
    'selfsup',
    selfsup,
    `tend up -d with ${K.n} services: memory after ${K.memSettleS} s, ${K.engineKills} + ${K.raceKills} engine kills, upgrade under HTTP traffic`,
  ],
  [
    'growth',
    growth,
    `N = ${K.growthNs.join(', ')} services: tend up -d (keeper + engine) beside the floor and PM2: start, stop, PSS; up -d of one service x ${K.growthOneReps}`,
  ],
  [
    'quota',
    quota,
    `tend up -d / ps / down of N = ${K.quotaNs.join(', ')} sleep services in a cgroup at ${K.quotaUs / 1000}% of one core, ${K.quotaRuns} runs each`,
  ],
  [
    'trust',
    trust,
    `tend up -d: engine memory with ${K.trustFollowers} stalled followers for ${K.trustFollowS} s; ps during ${K.trustFloodConns} TCP connections from ${K.trustFloodProcs} processes; keeper pacing of failing engine starts for ${K.trustPacingS} s`,
  ],
  [
    'probes',
    probes,
    `tend up -d of ${K.probesN} services, without and with an http readiness probe each every 1 s: keeper + engine CPU over ${K.probesWindowS} s and RSS`,
  ],
  [
    'health',
    health,
    `liveness failure to ready replacement x ${K.healthCycles}; up -d of ${K.healthLayers * K.healthWidth} services in ${K.healthLayers} layers (tcp readiness) over the critical path`,
  ],
  [
    'dashboard',
    dashboard,
    `tend up -d of ${K.dashN} services, ${K.dashWriters} writing ${K.dashRate} lines/s in all: keeper + engine CPU and RSS over ${K.dashWindowS} s without and with ${K.dashClients} dashboards following every log; the page's first full render x ${K.dashPageRuns}`,
  ],
].filter(([name]) => ONLY.length === 0 || ONLY.includes(name));
doc.measures = measures.map(([name]) => name);
for (const [name, measure, what] of measures) {
  log(`${name}: ${what}`);
  try {
    doc[name] = await measure(K);
  } catch (e) {
    // each measure catches its own failures; this is the last line of defence before the sweep
    doc[name] = { errors: [`${name}: ${e.message}`], runs: [] };
    log(`${name}: ${e.stack}`);
  }
  await leftovers(name);
}
await leftovers('end');
doc.duration_s = Math.round((Date.now() - started) / 1000);
doc.machine.loadavg_end = os.loadavg().map((v) => +v.toFixed(2)); // other work on the machine shows here

// ---- verdicts ------------------------------------------------------------------------------------
const R = doc.respawn ?? { errors: [] },
  S = doc.scale ?? { errors: [] },
  L = doc.logs ?? { runs: [] };
const lr = (kind) => L.runs.filter((r) => r.kind === kind && !r.error);
const sum = (kind, k) => lr(kind).reduce((a, r) => a + (r[k] ?? 0), 0);
const mbs = Object.fromEntries(['floor', 'node-floor', 'tend'].map((k) => [k, median(lr(k).map((r) => r.mb_s))]));
const cpu = median(lr('tend').map((r) => r.cpu_s));
/** Verdict of a check over measured values: '?' when one of them is missing. */
const ok = (pass, ...values) => (values.some((v) => typeof v !== 'number' || Number.isNaN(v)) ? '?' : pass ? 'met' : 'MISSED');
const fx = (v, d = 1) => (typeof v !== 'number' || Number.isNaN(v) ? '?' : v.toFixed(d));
const t = R.tend ?? {},
  f = R.floor ?? {};
const tm = S.tend?.mem_mib ?? {},
  bm = S.bare?.mem_mib ?? {},
  fm = S.floor?.mem_mib ?? {};
const section = (title) => ({ measure: `-- ${title} --`, tend: '', floor: '', target: '', verdict: '' });
const base = [
  section('respawn, log throughput, scale: foreground tend up'),
  {
    measure: `respawn p50 ms (${t.n} kills)`,
    tend: `${fx(t.p50, 2)} (${fx(t.p50 / f.p50, 2)}x)`,
    floor: fx(f.p50, 2),
    target: `<= 1.2x floor = ${fx(f.p50 * 1.2, 2)}`,
    verdict: ok(t.p50 <= 1.2 * f.p50, t.p50, f.p50),
  },
  { measure: 'respawn p90 ms', tend: fx(t.p90, 2), floor: fx(f.p90, 2), target: '', verdict: '' },
  {
    measure: 'respawn p99 ms',
    tend: fx(t.p99, 2),
    floor: fx(f.p99, 2),
    target: `<= floor + 5 = ${fx(f.p99 + 5, 2)}`,
    verdict: ok(t.p99 <= f.p99 + 5, t.p99, f.p99),
  },
  { measure: 'respawn max ms', tend: fx(t.max, 2), floor: fx(f.max, 2), target: '', verdict: '' },
  {
    measure: `log MB/s (median of ${K.reps})`,
    tend: `${fx(mbs.tend)} (${fx((mbs.tend / mbs.floor) * 100, 0)}%)`,
    floor: `${fx(mbs.floor)} (node-floor ${fx(mbs['node-floor'])})`,
    target: `>= 40 and >= 70% of floor = ${fx(mbs.floor * 0.7)}`,
    verdict: ok(mbs.tend >= 40 && mbs.tend >= 0.7 * mbs.floor, mbs.tend, mbs.floor),
  },
  {
    measure: 'log lost / dup / out-of-order / malformed',
    tend: ['lost', 'dup', 'out_of_order', 'malformed'].map((k) => sum('tend', k)).join(' / '),
    floor: ['lost', 'dup', 'out_of_order', 'malformed'].map((k) => sum('floor', k)).join(' / '),
    target: '0 lost, 0 dup',
    verdict: ok(lr('tend').length === K.reps && sum('tend', 'lost') === 0 && sum('tend', 'dup') === 0, lr('tend').length ? 0 : null),
  },
  {
    measure: `log CPU s for ${(K.lines * 100) / 1e6} MB (median)`,
    tend: fx(cpu, 2),
    floor: `node-floor ${fx(median(lr('node-floor').map((r) => r.cpu_s)), 2)}`,
    target: '',
    verdict: '',
  },
  {
    measure: `${K.n} services all running ms`,
    tend: fx(S.tend?.all_running_ms, 0),
    floor: fx(S.floor?.all_running_ms, 0),
    target: '< 1000',
    verdict: ok(S.tend?.all_running_ms < 1000, S.tend?.all_running_ms),
  },
  {
    measure: `RSS MiB, idle with ${K.n}`,
    tend: fx(tm.rss),
    floor: `bare node ${fx(bm.rss)}, floor-sup ${fx(fm.rss)}`,
    target: '< 66',
    verdict: ok(tm.rss < 66, tm.rss),
  },
  {
    measure: `PSS MiB, idle with ${K.n}`,
    tend: fx(tm.pss),
    floor: `bare node ${fx(bm.pss)}, floor-sup ${fx(fm.pss)}`,
    target: '',
    verdict: '',
  },
  {
    measure: `RssAnon MiB (private), idle with ${K.n}`,
    tend: fx(tm.anon),
    floor: `bare node ${fx(bm.anon)}, floor-sup ${fx(fm.anon)}`,
    target: '',
    verdict: '',
  },
  {
    measure: 'RSS MiB at idle window start / peak (VmHWM)',
    tend: `${fx(S.tend?.mem_mib_window_start?.rss)} / ${fx(tm.hwm)}`,
    floor: `floor-sup ${fx(S.floor?.mem_mib_window_start?.rss)} / ${fx(fm.hwm)}`,
    target: '',
    verdict: '',
  },
  {
    measure: `idle CPU % of a core (${K.idleS} s)`,
    tend: fx(S.tend?.idle_cpu_pct, 3),
    floor: `bare node ${fx(S.bare?.idle_cpu_pct, 3)}, floor-sup ${fx(S.floor?.idle_cpu_pct, 3)}`,
    target: '< 0.1',
    verdict: ok(S.tend?.idle_cpu_pct < 0.1, S.tend?.idle_cpu_pct),
  },
  { measure: `stop all ${K.n} (SIGINT -> exit) ms`, tend: fx(S.tend?.stop_ms, 0), floor: fx(S.floor?.stop_ms, 0), target: '', verdict: '' },
];
// Issue 3: control plane (control.mjs).
const C = doc.control ?? { errors: [] };
const ps = C.ps?.results ?? {},
  api = C.api ?? {},
  lg = C.logs?.timing?.results ?? {};
const peerMed = (p, name) => (p?.skipped ? 'not run' : fx(p?.timing?.results?.[name]?.p50, 0));
const controlChecks = [
  section(`control plane (issue 3): tend up -d with ${K.n} services`),
  {
    measure: `tend ps ms, CLI start included (median of ${ps['tend ps']?.n ?? '?'})`,
    tend: `${fx(ps['tend ps']?.p50, 0)} (mean ${fx(ps['tend ps']?.mean, 0)})`,
    floor: `node -e 0: ${fx(ps['node -e 0']?.p50, 0)}`,
    target: '< 150',
    verdict: ok(ps['tend ps']?.p50 < 150, ps['tend ps']?.p50),
  },
  {
    measure: `  peers, same ${K.n} services (median ms)`,
    tend: '',
    floor: C.peers?.skipped
      ? `not run (${C.peers.skipped})`
      : `pm2 jlist ${peerMed(C.peers?.pm2, 'pm2 jlist')}; supervisorctl status ${peerMed(C.peers?.supervisord, 'supervisorctl status')}`,
    target: '',
    verdict: '',
  },
  {
    measure: `API status round trip p50 ms (${api.requests ?? '?'} req, ${fx(api.body_bytes / 1024, 0)} KiB)`,
    tend: fx(api.tend?.p50, 2),
    floor: `bare node:http same body ${fx(api.floor?.p50, 2)}; engine 404 ${fx(api.engine_404?.p50, 2)}`,
    target: '< 5',
    verdict: ok(api.tend?.p50 < 5, api.tend?.p50),
  },
  {
    measure: 'API status round trip p99 ms',
    tend: fx(api.tend?.p99, 2),
    floor: `bare node:http ${fx(api.floor?.p99, 2)}; engine 404 ${fx(api.engine_404?.p99, 2)}`,
    target: '',
    verdict: '',
  },
  {
    measure: `tend logs -n 1000 ms, ${fx(C.logs?.total_mb, 0)} MB in ${C.logs?.files ?? '?'} files (median of ${lg['tend logs -n 1000']?.n ?? '?'})`,
    tend: `${fx(lg['tend logs -n 1000']?.p50, 0)} (mean ${fx(lg['tend logs -n 1000']?.mean, 0)})`,
    floor: `tail+sort ${fx(lg['tail+sort floor']?.p50, 0)}; node -e 0 ${fx(ps['node -e 0']?.p50, 0)}`,
    target: '< 300',
    verdict: ok(lg['tend logs -n 1000']?.p50 < 300, lg['tend logs -n 1000']?.p50),
  },
  {
    measure: '  tend logs -n 1000 into a pipe read 300 ms late: lines',
    tend: `${C.logs?.slow_pipe?.lines ?? '?'} of ${C.logs?.output_lines ?? '?'} (exit ${C.logs?.slow_pipe?.exit ?? '?'})`,
    floor: '',
    target: '',
    verdict: '',
  },
];
// Issue 4: self-supervision (selfsup.mjs).
const U = doc.selfsup ?? { errors: [] };
const kl = U.kills ?? {},
  up = U.upgrade ?? {},
  mm = U.mem ?? {};
const selfChecks = [
  section(`self-supervision (issue 4): tend up -d with ${K.n} services (one an HTTP server)`),
  {
    measure: `engine kill -9 -> API answers from new pid, p50 ms (${kl.n ?? '?'} kills)`,
    tend: fx(kl.p50, 1),
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: 'engine kill -9 -> API answers, max ms',
    tend: fx(kl.max, 1),
    floor: '',
    target: '< 1000',
    verdict: ok(kl.max < 1000 && kl.n === K.engineKills, kl.max),
  },
  {
    measure: `service PIDs changed over ${kl.n ?? '?'} engine kills`,
    tend: `${kl.units_with_changed_pid ?? '?'} of ${K.n}`,
    floor: '',
    target: '0',
    verdict: ok(kl.units_with_changed_pid === 0, kl.units_with_changed_pid),
  },
  {
    measure: '  first answer of a new engine without service PIDs (1 poller)',
    tend: `${kl.answers_without_pids ?? '?'} of ${kl.n ?? '?'} kills`,
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: '  same, 12 pollers at once',
    tend: `${U.race?.kills_with_pidless_answer ?? '?'} of ${U.race?.kills ?? '?'} kills (${U.race?.pidless_answers ?? '?'} of ${U.race?.answers ?? '?'} answers)`,
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: 'upgrade under HTTP load (every 10 ms): sent / failed',
    tend: `${up.http?.sent ?? '?'} / ${up.http?.failed ?? '?'}`,
    floor: '',
    target: '0 failed',
    verdict: ok(up.http?.failed === 0 && up.http?.sent > 0, up.http?.failed),
  },
  {
    measure: 'upgrade: HTTP server same PID; engine replaced',
    tend: `${up.server_same_pid === undefined ? '?' : up.server_same_pid ? 'yes' : 'NO'}; ${up.old_engine ?? '?'} -> ${up.new_engine ?? '?'}`,
    floor: '',
    target: 'same PID',
    verdict: up.server_same_pid === undefined ? '?' : up.server_same_pid && up.new_engine !== up.old_engine ? 'met' : 'MISSED',
  },
  {
    measure: 'upgrade: API gap ms / tend upgrade wall ms',
    tend: `${fx(up.api?.gap_ms, 0)} / ${fx(up.cli_ms, 0)}`,
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: `RSS MiB keeper / engine (after ${U.mem_settle_s ?? '?'} s)`,
    tend: `${fx(mm.keeper?.rss)} / ${fx(mm.engine?.rss)}`,
    floor: `bare node ${fx(mm.bare?.rss)}`,
    target: '',
    verdict: '',
  },
  {
    measure: 'PSS MiB keeper / engine',
    tend: `${fx(mm.keeper?.pss)} / ${fx(mm.engine?.pss)}`,
    floor: `bare node ${fx(mm.bare?.pss)}`,
    target: '',
    verdict: '',
  },
  {
    measure: 'RssAnon MiB (private) keeper / engine',
    tend: `${fx(mm.keeper?.anon)} / ${fx(mm.engine?.anon)}`,
    floor: `bare node ${fx(mm.bare?.anon)}`,
    target: '',
    verdict: '',
  },
];
// Issue 7: growth (growth.mjs) and the CPU quota (quota.mjs).
const G = doc.growth ?? { errors: [] };
const Q = doc.quota ?? { errors: [] };
const pm2Col = (v, r) => (G.pm2?.skipped ? 'PM2 not run' : `PM2 ${fx(v, 0)}${r === undefined ? '' : ` (tend ${fx(r, 2)}x)`}`);
const growthChecks = [
  section(
    `growth (issue 7): tend up -d (keeper + engine) beside the floor and PM2, in one run${G.pm2?.skipped ? `; PM2 not run: ${G.pm2.skipped}` : ''}`,
  ),
  ...(G.per_n ?? []).flatMap((r) => [
    {
      measure: `N=${r.n}: all running ms (start command -> N markers)`,
      tend: `${r.tend?.error ? `FAILED${r.tend?.services_orphaned ? ` (${r.tend.services_orphaned} orphaned)` : ''}` : `${fx(r.tend?.start_ms, 0)} (${fx(r.ratio?.start, 2)}x)`}${r.tend?.engine_log?.hung_kills ? ` [${r.tend.engine_log.hung_kills} hung kill(s)]` : ''}`,
      floor: `${fx(r.floor?.start_ms, 0)}; ${pm2Col(r.pm2?.start_ms, r.ratio?.start_vs_pm2)}`,
      target: '<= 1.2x floor',
      verdict: r.verdict?.start,
    },
    {
      measure: `N=${r.n}: all stopped ms (stop -> daemon + services gone)`,
      tend: r.tend?.stop_error ? 'FAILED' : `${fx(r.tend?.stop_ms, 0)} (${fx(r.ratio?.stop, 2)}x)`,
      floor: `${fx(r.floor?.stop_ms, 0)}; ${pm2Col(r.pm2?.stop_ms, r.ratio?.stop_vs_pm2)}`,
      target: '<= 1.5x floor',
      verdict: r.verdict?.stop,
    },
    {
      measure: `N=${r.n}: PSS MiB keeper+engine (keeper / engine)`,
      tend: `${fx(r.mem_mib?.tend?.pss)} (${fx(r.mem_mib?.keeper?.pss)} / ${fx(r.mem_mib?.engine?.pss)})`,
      floor: `floor ${fx(r.mem_mib?.floor?.pss)}; ${G.pm2?.skipped ? 'PM2 not run' : `PM2 God ${fx(r.mem_mib?.pm2_god?.pss)} (tend ${fx(r.ratio?.pss_vs_pm2, 2)}x)`}`,
      target: '<= PM2 daemon',
      verdict: r.verdict?.pss,
    },
  ]),
  {
    measure: `up -d of ONE service, command ms (median of ${G.up_one?.tend?.cli_ms?.length ?? '?'}, cold)`,
    tend: `${fx(G.up_one?.tend?.cli_ms_p50, 0)} (marker ${fx(G.up_one?.tend?.start_ms_p50, 0)})`,
    floor: G.up_one?.pm2
      ? `pm2 start ${fx(G.up_one.pm2.cli_ms_p50, 0)} (marker ${fx(G.up_one.pm2.start_ms_p50, 0)}); tend ${fx(G.up_one.ratio_cli, 2)}x`
      : 'PM2 not run',
    target: '<= pm2 start',
    verdict: G.up_one?.verdict ?? '?',
  },
];
const quotaChecks = [
  section(
    `CPU quota (issue 7): tend up -d / ps --json / down in a cgroup at ${fx((Q.cfs_quota_us ?? K.quotaUs) / 1000, 0)}% of one core${Q.skipped ? `: SKIPPED (${Q.skipped})` : ''}`,
  ),
  ...(Q.by_n ?? []).flatMap((b) => [
    {
      measure: `N=${b.n} x ${b.runs} runs: keeper deaths (incl. failed up -d) / engines killed as hung`,
      tend: `${b.keeper_deaths} (${b.up_failures} up -d failed, ${b.uncaught_crashes ?? '?'} uncaught crashes in engine.log) / ${b.hung_kills}`,
      floor: '',
      target: '0 / 0',
      verdict: b.keeper_deaths === 0 && b.hung_kills === 0 ? 'met' : 'MISSED',
    },
    {
      measure: `N=${b.n}: orphans / duplicated services (sum over runs)`,
      tend: `${b.orphans} (${b.runs_with_orphans} runs) / ${b.duplicates} (${b.runs_with_duplicates} runs)`,
      floor: '',
      target: '0 / 0',
      verdict: b.orphans === 0 && b.duplicates === 0 ? 'met' : 'MISSED',
    },
    {
      measure: `N=${b.n}: all running / ps / down ms, p50 (max)`,
      tend: `${fx(b.all_running_ms?.p50, 0)} (${fx(b.all_running_ms?.max, 0)}) / ${fx(b.ps_ms?.p50, 0)} (${fx(b.ps_ms?.max, 0)}) / ${fx(b.down_ms?.p50, 0)} (${fx(b.down_ms?.max, 0)})`,
      floor: '',
      target: '',
      verdict: '',
    },
  ]),
];
// Issue 8: trust (trust.mjs).
const T = doc.trust ?? { errors: [] };
const tf = T.followers ?? {},
  tfl = T.flood ?? {},
  tp = T.pacing ?? {};
const trustChecks = [
  section('trust (issue 8): tend up -d, one service'),
  {
    measure: `engine RSS MiB, ${tf.followers ?? '?'} stalled followers ${tf.follow_s ?? '?'} s: max / final`,
    tend: `${fx(tf.with_followers?.engine_rss_max)} / ${fx(tf.with_followers?.engine_rss_final)}`,
    floor: `no followers: ${fx(tf.no_followers?.engine_rss_max)} / ${fx(tf.no_followers?.engine_rss_final)}`,
    target: '< 150 MB',
    verdict: tf.verdict ?? '?',
  },
  {
    measure: '  engine PSS MiB: max / final',
    tend: `${fx(tf.with_followers?.engine_pss_max)} / ${fx(tf.with_followers?.engine_pss_final)}`,
    floor: `no followers: ${fx(tf.no_followers?.engine_pss_max)} / ${fx(tf.no_followers?.engine_pss_final)}`,
    target: '',
    verdict: '',
  },
  {
    measure: '  engine CPU % of a core over the window',
    tend: fx(tf.with_followers?.engine_cpu_pct, 0),
    floor: `no followers: ${fx(tf.no_followers?.engine_cpu_pct, 0)}`,
    target: '',
    verdict: '',
  },
  {
    measure: '  streams: ended by the engine (slow-reader line) / refused BUSY / still open',
    tend: `${tf.streams?.ended_by_engine ?? '?'} (${tf.streams?.slow_reader_line ?? '?'}) / ${tf.streams?.refused_busy ?? '?'} / ${tf.streams?.still_open_after_read ?? '?'}`,
    floor: `${tf.with_followers?.lines_per_s ?? '?'} lines/s; ${fx(tf.streams?.mib_read_total, 0)} MiB read after the window`,
    target: '0 refused',
    verdict: '',
  },
  {
    measure: `tend ps --json ms (unix socket), ${tfl.connections ?? '?'} TCP conns: median / max`,
    tend: `${fx(tfl.ps_flood?.p50, 0)} / ${fx(tfl.ps_flood?.max, 0)}${tfl.ps_flood?.failed ? ` (${tfl.ps_flood.failed} failed)` : ''}`,
    floor: `no flood: ${fx(tfl.ps_no_flood?.p50, 0)} / ${fx(tfl.ps_no_flood?.max, 0)}; node -e 0: ${fx(tfl.ps_no_flood?.node_e0?.p50, 0)} -> ${fx(tfl.ps_flood?.node_e0?.p50, 0)}`,
    target: '',
    verdict: '',
  },
  {
    measure: '  engine open fds during the flood: max',
    tend: fx(tfl.engine_fds?.max, 0),
    floor: `idle ${fx(tfl.engine_fds_idle, 0)}; flood ${fx(tfl.flood?.connects_per_s, 0)} connects/s, held >= ${tfl.flood?.held_min ?? '?'}`,
    target: '',
    verdict: '',
  },
  {
    measure: `failing engine: starts in ${tp.window_s ?? '?'} s; delays announced ms`,
    tend: `${tp.engine_starts_in_window ?? '?'}; ${(tp.delays_announced_ms ?? []).join(', ')}`,
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: '  tend ps during the failure (exit) / tend down (exit, keeper + service gone)',
    tend: `${(tp.ps_during ?? []).map((p) => `${p.code}${p.says_not_running && p.gives_last_failure ? '' : '!'}`).join(',') || '?'} / ${tp.down?.code ?? '?'}, ${tp.down?.keeper_gone && tp.down?.service_gone ? 'gone' : 'NOT gone'}`,
    floor: '',
    target: 'ps 1 / down 0',
    verdict: '',
  },
];
// Issue 10: probes (probes.mjs).
const P = doc.probes ?? { errors: [] };
const probeChecks = [
  section(`probes (issue 10): tend up -d of ${P.n ?? '?'} services, an http readiness probe each every 1 s`),
  {
    measure: `keeper + engine CPU % of a core over ${P.window_s ?? '?'} s (keeper / engine)`,
    tend: `${fx(P.with?.cpu_pct, 2)} (${fx(P.with?.keeper_cpu_pct, 2)} / ${fx(P.with?.engine_cpu_pct, 2)})`,
    floor: `no probes: ${fx(P.without?.cpu_pct, 2)}`,
    target: 'probes < 2% of a core',
    verdict: ok(P.probe_cpu_pct < 2, P.probe_cpu_pct),
  },
  {
    measure: 'keeper + engine RSS MiB',
    tend: fx(P.with?.rss_mib),
    floor: `no probes: ${fx(P.without?.rss_mib)}`,
    target: 'growth < 15 MB',
    verdict: ok(P.rss_growth_mib < 15, P.rss_growth_mib),
  },
  {
    measure: '  up -d ms (with probes: until every instance is ready)',
    tend: fx(P.with?.up_ms, 0),
    floor: `no probes: ${fx(P.without?.up_ms, 0)}`,
    target: '',
    verdict: '',
  },
];
// Issue 10: health (health.mjs).
const D = doc.dashboard ?? {};
const dashboardChecks = [
  section(
    `dashboard (issue 12): ${D.n ?? '?'} services, ${D.rate ?? '?'} log lines/s, ${D.dashboards ?? '?'} dashboards following every log`,
  ),
  {
    measure: 'engine RSS with 1 dashboard - without, MiB',
    tend: fx(D.engine_rss_growth_one_mib, 1),
    floor: `without ${fx(D.without?.engine_rss_mib, 1)}`,
    target: '< 15 MB',
    verdict: ok(D.engine_rss_growth_one_mib < 15, D.engine_rss_growth_one_mib),
  },
  {
    measure: `engine RSS with ${D.dashboards ?? '?'} dashboards - without, MiB`,
    tend: fx(D.engine_rss_growth_mib, 1),
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: 'engine CPU % of one core with 1 dashboard',
    tend: fx(D.with_one?.engine_cpu_pct, 1),
    floor: '',
    target: '',
    verdict: '',
  },
  {
    measure: `engine CPU % of one core, with ${D.dashboards ?? '?'} / without`,
    tend: fx(D.with?.engine_cpu_pct, 1),
    floor: fx(D.without?.engine_cpu_pct, 1),
    target: '',
    verdict: '',
  },
  {
    measure: '  log lines/s each dashboard received (min)',
    tend: fx(D.with ? Math.min(...D.with.lines_per_s_each) : undefined, 0),
    floor: `written ${D.rate ?? '?'}`,
    target: '',
    verdict: '',
  },
  {
    measure: `page: navigation -> every unit shown, ms (median of ${D.page?.runs ?? '?'})`,
    tend: fx(D.page?.first_full_render_ms, 0),
    floor: D.page?.skipped ?? `${fx((D.page?.page_bytes_gzip ?? NaN) / 1024, 1)} KiB gzip`,
    target: '',
    verdict: '',
  },
];
const H = doc.health ?? { errors: [] };
const healthChecks = [
  section("health (issue 10): net of the services' own start times"),
  {
    measure: `liveness threshold -> replacement ready, ms p50 / p90 (${H.liveness?.samples ?? '?'} cycles)`,
    tend: `${fx(H.liveness?.replacement_ms?.p50, 1)} / ${fx(H.liveness?.replacement_ms?.p90, 1)}`,
    floor: `own start p50 ${fx(H.liveness?.own_start_ms?.p50, 1)}`,
    target: '< 20 ms p50',
    verdict: ok(H.liveness?.replacement_ms?.p50 < 20, H.liveness?.replacement_ms?.p50),
  },
  {
    measure: `${H.stack?.services ?? '?'} services in ${H.stack?.layers ?? '?'} layers: first spawn -> last ready, ms`,
    tend: fx(H.stack?.stack_ms, 0),
    floor: `critical path ${fx(H.stack?.critical_ms, 0)}`,
    target: '<= 1.1x',
    verdict: ok(H.stack?.ratio <= 1.1, H.stack?.ratio),
  },
  {
    measure: '  the same stack started by a bare Node script, ms',
    tend: `x ${fx(H.stack?.floor_ratio, 2)}`,
    floor: fx(H.stack?.floor_ms, 0),
    target: '',
    verdict: '',
  },
  {
    measure: '  the whole up -d (CLI, keeper, engine), ms',
    tend: fx(H.stack?.up_ms, 0),
    floor: `x ${fx(H.stack?.up_ratio, 2)}`,
    target: '',
    verdict: '',
  },
];
const checks = [
  ...(doc.respawn || doc.logs || doc.scale ? base : []),
  ...(doc.control ? controlChecks : []),
  ...(doc.selfsup ? selfChecks : []),
  ...(doc.growth ? growthChecks : []),
  ...(doc.quota ? quotaChecks : []),
  ...(doc.trust ? trustChecks : []),
  ...(doc.probes ? probeChecks : []),
  ...(doc.health ? healthChecks : []),
  ...(doc.dashboard ? dashboardChecks : []),
];
const reference = [
  {
    peer: 'PM2 (reference, not measured here)',
    respawn: '1.5x floor',
    'log MB/s': '19 (older method)',
    [`${200} up`]: '1.6 s',
    RSS: '66 MB',
    'idle CPU': '0.37%',
  },
  {
    peer: 'supervisord (reference, not measured here)',
    respawn: '~1000 ms',
    'log MB/s': '9 (older method)',
    [`${200} up`]: '1.85 s',
    RSS: '29 MB',
    'idle CPU': '0.10%',
  },
];
doc.table = checks;
doc.reference = reference;
const errors = [
  ...R.errors,
  ...S.errors,
  ...(L.errors ?? []),
  ...L.runs.filter((r) => r.error).map((r) => `logs ${r.kind} rep ${r.rep}: ${r.error}`),
  ...C.errors.map((e) => `control: ${e}`),
  ...U.errors.map((e) => `selfsup: ${e}`),
  ...G.errors.map((e) => `growth: ${e}`),
  ...Q.errors.map((e) => `quota: ${e}`),
  ...T.errors.map((e) => `trust: ${e}`),
  ...P.errors.map((e) => `probes: ${e}`),
  ...H.errors.map((e) => `health: ${e}`),
  ...(doc.dashboard?.errors ?? []).map((e) => `dashboard: ${e}`),
];
const left = Object.values(doc.leftovers).reduce((a, l) => a + l.length, 0);
doc.errors = errors;
doc.leftover_count = left;

const resDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(resDir, { recursive: true });
const out = path.join(
  resDir,
  `${started
    .toISOString()
    .replace(/[:.]/g, '')
    .replace(/\d{3}Z$/, 'Z')}.json`,
);
fs.writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
if (process.env.KEEP_TMP !== '1') fs.rmSync(RUN_DIR, { recursive: true, force: true });

const m = doc.machine;
process.stderr.write(
  `\n== tend bench ${doc.date}${QUICK ? ' (QUICK)' : ''} — ${m.nproc} cores, node ${m.node}, ${doc.duration_s} s, load avg ${m.loadavg_start[0]} -> ${m.loadavg_end[0]} ==\n`,
);
process.stderr.write(`${table(checks, ['measure', 'tend', 'floor', 'target', 'verdict'])}\n\n`);
process.stderr.write(`${table(reference, Object.keys(reference[0]))}\n\n`);
if (doc.respawn)
  process.stderr.write(
    `respawn: settle gap ${K.gapMs} ms after each start; tend's events.jsonl agrees with the markers: ${R.tend_events_match_markers}\n`,
  );
if (doc.control?.ps) process.stderr.write(`control: timed with ${doc.control.ps.tool}\n`);
process.stderr.write(`leftover processes: ${left}${errors.length ? `\nerrors:\n  ${errors.join('\n  ')}` : ''}\n`);
process.stderr.write(`results: ${out}${process.env.KEEP_TMP === '1' ? `\nwork dir kept: ${RUN_DIR}` : ''}\n`);
process.exit(left || errors.length ? 1 : 0);
