// Supplement to the peer bench's measure/overhead.mjs, for tend builds with a keeper. overhead.mjs sums the
// supervisor's processes as lib/proc.mjs supervisorTree(roots(), services) lists them, and that list is not
// deduplicated: tend's roots() are the engine AND the keeper (as the bench's README asks), the engine is the
// keeper's child, so the engine is listed twice and its RSS/PSS/CPU counted twice ("sup procs" 3 for 2 processes).
// This script measures the same thing the same way (startFleet, settle, one shared idle window, memOf/cpuOf)
// with each PID counted once, and lists the processes with their own figures.
// Runs inside the bench copy made by run.mjs. Knobs: OVERHEAD_NS=1,50,200 IDLE_S=60 SETTLE_S=5, RESULTS_DIR.
import { loadAvailable } from './adapters/index.mjs';
import { knob, sweep, emit, log } from './lib/util.mjs';
import { sleep, memKb } from './lib/proc.mjs';
import { startFleet, supervisorPids, cpuOf, memOf, stopFleet, dropFleet } from './lib/fleet.mjs';

const NS = String(knob('OVERHEAD_NS', '1,50,200')).split(',').map(Number);
const IDLE_S = knob('IDLE_S', 60);
const SETTLE_S = knob('SETTLE_S', 5);
const [p] = await loadAvailable(['tend'], log);
if (!p) process.exit(1);
const fleets = [];
const rows = [];
try {
  for (const n of NS) {
    log(`tend-overhead: start tend with N=${n}`);
    fleets.push({ n, f: await startFleet(p, n, 'tendovh') });
  }
  await sleep(SETTLE_S * 1000);
  for (const x of fleets) {
    const listed = await supervisorPids(x.f);
    const seen = new Set();
    x.procs = listed.filter((q) => (seen.has(q.pid) ? false : seen.add(q.pid)));
    x.listed = listed.length;
    x.cpu0 = cpuOf(x.procs);
  }
  log(`  idle window ${IDLE_S} s (tend N=${NS.join(', ')})`);
  await sleep(IDLE_S * 1000);
  for (const x of fleets) {
    const cpu = cpuOf(x.procs);
    const per = x.procs.map((q) => {
      const m = memKb(q.pid) || {};
      return {
        pid: q.pid,
        comm: q.comm,
        rss_mib: +((m.rss || 0) / 1024).toFixed(1),
        pss_mib: +((m.pss || 0) / 1024).toFixed(1),
        anon_mib: +((m.anon || 0) / 1024).toFixed(1),
        hwm_mib: +((m.hwm || 0) / 1024).toFixed(1),
      };
    });
    rows.push({
      peer: 'tend (each PID once)',
      N: x.n,
      'listed by supervisorTree': x.listed,
      'sup procs': x.procs.length,
      ...(() => {
        const m = memOf(x.procs);
        return { 'RSS MiB': m.rss_mib, 'PSS MiB': m.pss_mib, 'anon MiB': m.anon_mib, 'HWM MiB': m.hwm_mib };
      })(),
      [`CPU s/${IDLE_S}s`]: +(cpu.cpu_s - x.cpu0.cpu_s).toFixed(2),
      'per process RSS/PSS MiB': per.map((q) => `${q.pid}:${q.rss_mib}/${q.pss_mib}`).join(' '),
      per,
    });
  }
} finally {
  for (const x of fleets) {
    await stopFleet(x.f);
    dropFleet(x.f);
  }
  const left = await sweep();
  if (left.length) log(`leftovers: ${left.join(' ')}`);
}
emit(
  'tend-overhead',
  { knobs: { NS, IDLE_S, SETTLE_S }, version: p.version, results: rows },
  rows.map(({ per, ...r }) => r),
  Object.keys(rows[0] || { peer: 1 }).filter((k) => k !== 'per'),
);
