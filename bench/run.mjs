// `npm run bench` (after `npm run build`): tend's respawn latency, log throughput, and the cost of N
// services, each next to a floor measured in the same run, against the issue's targets. Prints a
// table on stderr and writes one JSON document to bench/results/<UTC time>.json (path printed).
// Every process started carries TEND_BENCH_RUN=<run id>; the run ends with a sweep of /proc for it
// (SIGKILL by PID, start time checked); leftovers or errors -> exit 1 (a missed target is not an error).
// Knobs: QUICK=1 (~40 s smoke run), BENCH_KILLS (200), BENCH_GAP_MS (30), BENCH_LOG_LINES (1000000),
// BENCH_LOG_REPS (3), BENCH_SCALE_N (200), BENCH_IDLE_S (60), KEEP_TMP=1 (keep /tmp/tend-bench/<run>).
// The measures: respawn.mjs, logs.mjs, scale.mjs (each file's header says how); floor: floor-supervisor.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BENCH_DIR, REPO, TEND, QUICK, RUN_ID, RUN_DIR, knob, median, table, sweep, log } from './lib.mjs';
import { respawn } from './respawn.mjs';
import { logs } from './logs.mjs';
import { scale } from './scale.mjs';

const K = {
  kills: knob('BENCH_KILLS', 200, 50),
  gapMs: knob('BENCH_GAP_MS', 30),
  lines: knob('BENCH_LOG_LINES', 1_000_000),
  reps: knob('BENCH_LOG_REPS', 3, 1),
  n: knob('BENCH_SCALE_N', 200),
  idleS: knob('BENCH_IDLE_S', 60, 10),
};
if (!fs.existsSync(TEND)) { console.error(`bench: ${TEND} is missing; run \`npm run build\` first`); process.exit(1); }

const started = new Date();
const doc = {
  date: started.toISOString(), run_id: RUN_ID, quick: QUICK, knobs: K,
  machine: { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model, mem_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, kernel: os.release(), loadavg_start: os.loadavg().map((v) => +v.toFixed(2)) },
  git: (() => { try { return execFileSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim(); } catch { return null; } })(),
  leftovers: {},
};
const leftovers = async (stage) => { doc.leftovers[stage] = await sweep(); if (doc.leftovers[stage].length) log(`LEFTOVERS after ${stage}: ${doc.leftovers[stage].join(' ')}`); };

log(`tend bench ${RUN_ID}${QUICK ? ' (QUICK)' : ''}: ${JSON.stringify(K)}`);
log(`respawn: ${K.kills} kills each (tend, floor), ${K.gapMs} ms after each start`);
doc.respawn = await respawn(K);
await leftovers('respawn');
log(`logs: ${K.lines} lines x 100 B, ${K.reps} rep(s)`);
doc.logs = await logs(K);
await leftovers('logs');
log(`scale: ${K.n} services, idle ${K.idleS} s`);
doc.scale = await scale(K);
await leftovers('scale');
await leftovers('end');
doc.duration_s = Math.round((Date.now() - started) / 1000);
doc.machine.loadavg_end = os.loadavg().map((v) => +v.toFixed(2)); // other work on the machine shows here

// ---- verdicts ------------------------------------------------------------------------------------
const R = doc.respawn, S = doc.scale;
const lr = (kind) => doc.logs.runs.filter((r) => r.kind === kind && !r.error);
const sum = (kind, k) => lr(kind).reduce((a, r) => a + (r[k] ?? 0), 0);
const mbs = Object.fromEntries(['floor', 'node-floor', 'tend'].map((k) => [k, median(lr(k).map((r) => r.mb_s))]));
const cpu = median(lr('tend').map((r) => r.cpu_s));
const ok = (b) => (b === null || b === undefined || Number.isNaN(b) ? '?' : b ? 'met' : 'MISSED');
const fx = (v, d = 1) => (v === null || v === undefined ? '?' : Number(v).toFixed(d));
const t = R.tend ?? {}, f = R.floor ?? {};
const tm = S.tend?.mem_mib ?? {}, bm = S.bare?.mem_mib ?? {}, fm = S.floor?.mem_mib ?? {};
const checks = [
  { measure: `respawn p50 ms (${t.n} kills)`, tend: `${fx(t.p50, 2)} (${fx(t.p50 / f.p50, 2)}x)`, floor: fx(f.p50, 2), target: `<= 1.2x floor = ${fx(f.p50 * 1.2, 2)}`, verdict: ok(t.p50 <= 1.2 * f.p50) },
  { measure: 'respawn p90 ms', tend: fx(t.p90, 2), floor: fx(f.p90, 2), target: '', verdict: '' },
  { measure: 'respawn p99 ms', tend: fx(t.p99, 2), floor: fx(f.p99, 2), target: `<= floor + 5 = ${fx(f.p99 + 5, 2)}`, verdict: ok(t.p99 <= f.p99 + 5) },
  { measure: 'respawn max ms', tend: fx(t.max, 2), floor: fx(f.max, 2), target: '', verdict: '' },
  { measure: `log MB/s (median of ${K.reps})`, tend: `${fx(mbs.tend)} (${fx((mbs.tend / mbs.floor) * 100, 0)}%)`, floor: `${fx(mbs.floor)} (node-floor ${fx(mbs['node-floor'])})`, target: `>= 40 and >= 70% of floor = ${fx(mbs.floor * 0.7)}`, verdict: ok(mbs.tend >= 40 && mbs.tend >= 0.7 * mbs.floor) },
  { measure: 'log lost / dup / out-of-order / malformed', tend: ['lost', 'dup', 'out_of_order', 'malformed'].map((k) => sum('tend', k)).join(' / '), floor: ['lost', 'dup', 'out_of_order', 'malformed'].map((k) => sum('floor', k)).join(' / '), target: '0 lost, 0 dup', verdict: ok(lr('tend').length === K.reps && sum('tend', 'lost') === 0 && sum('tend', 'dup') === 0) },
  { measure: `log CPU s for ${(K.lines * 100) / 1e6} MB (median)`, tend: fx(cpu, 2), floor: `node-floor ${fx(median(lr('node-floor').map((r) => r.cpu_s)), 2)}`, target: '', verdict: '' },
  { measure: `${K.n} services all running ms`, tend: fx(S.tend?.all_running_ms, 0), floor: fx(S.floor?.all_running_ms, 0), target: '< 1000', verdict: ok(S.tend?.all_running_ms < 1000) },
  { measure: `RSS MiB, idle with ${K.n}`, tend: fx(tm.rss), floor: `bare node ${fx(bm.rss)}, floor-sup ${fx(fm.rss)}`, target: '< 66', verdict: ok(tm.rss < 66) },
  { measure: `PSS MiB, idle with ${K.n}`, tend: fx(tm.pss), floor: `bare node ${fx(bm.pss)}, floor-sup ${fx(fm.pss)}`, target: '', verdict: '' },
  { measure: `RssAnon MiB (private), idle with ${K.n}`, tend: fx(tm.anon), floor: `bare node ${fx(bm.anon)}, floor-sup ${fx(fm.anon)}`, target: '', verdict: '' },
  { measure: 'RSS MiB at idle window start / peak (VmHWM)', tend: `${fx(S.tend?.mem_mib_window_start?.rss)} / ${fx(tm.hwm)}`, floor: `floor-sup ${fx(S.floor?.mem_mib_window_start?.rss)} / ${fx(fm.hwm)}`, target: '', verdict: '' },
  { measure: `idle CPU % of a core (${K.idleS} s)`, tend: fx(S.tend?.idle_cpu_pct, 3), floor: `bare node ${fx(S.bare?.idle_cpu_pct, 3)}, floor-sup ${fx(S.floor?.idle_cpu_pct, 3)}`, target: '< 0.1', verdict: ok(S.tend?.idle_cpu_pct < 0.1) },
  { measure: `stop all ${K.n} (SIGINT -> exit) ms`, tend: fx(S.tend?.stop_ms, 0), floor: fx(S.floor?.stop_ms, 0), target: '', verdict: '' },
];
const reference = [
  { peer: 'PM2 (reference, not measured here)', respawn: '1.5x floor', 'log MB/s': '19 (older method)', [`${200} up`]: '1.6 s', RSS: '66 MB', 'idle CPU': '0.37%' },
  { peer: 'supervisord (reference, not measured here)', respawn: '~1000 ms', 'log MB/s': '9 (older method)', [`${200} up`]: '1.85 s', RSS: '29 MB', 'idle CPU': '0.10%' },
];
doc.table = checks;
doc.reference = reference;
const errors = [...R.errors, ...S.errors, ...doc.logs.runs.filter((r) => r.error).map((r) => `logs ${r.kind} rep ${r.rep}: ${r.error}`)];
const left = doc.leftovers.respawn.length + doc.leftovers.logs.length + doc.leftovers.scale.length + doc.leftovers.end.length;
doc.errors = errors;
doc.leftover_count = left;

const resDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(resDir, { recursive: true });
const out = path.join(resDir, `${started.toISOString().replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}.json`);
fs.writeFileSync(out, JSON.stringify(doc, null, 1) + '\n');
if (process.env.KEEP_TMP !== '1') fs.rmSync(RUN_DIR, { recursive: true, force: true });

const m = doc.machine;
process.stderr.write(`\n== tend bench ${doc.date}${QUICK ? ' (QUICK)' : ''} — ${m.nproc} cores, node ${m.node}, ${doc.duration_s} s, load avg ${m.loadavg_start[0]} -> ${m.loadavg_end[0]} ==\n`);
process.stderr.write(`${table(checks, ['measure', 'tend', 'floor', 'target', 'verdict'])}\n\n`);
process.stderr.write(`${table(reference, Object.keys(reference[0]))}\n\n`);
process.stderr.write(`respawn: settle gap ${K.gapMs} ms after each start; tend's events.jsonl agrees with the markers: ${R.tend_events_match_markers}\n`);
process.stderr.write(`leftover processes: ${left}${errors.length ? `\nerrors:\n  ${errors.join('\n  ')}` : ''}\n`);
process.stderr.write(`results: ${out}${process.env.KEEP_TMP === '1' ? `\nwork dir kept: ${RUN_DIR}` : ''}\n`);
process.exit(left || errors.length ? 1 : 0);
