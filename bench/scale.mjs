// 3. Scale and idle cost. N marker services (restart: always) under tend: ms from launching `tend up`
// (node startup and config loading included) until all N markers exist (readdir of the marker dir
// every 2 ms). The same N under floor-supervisor.mjs for a start/stop floor. Then, with both fleets
// running and a bare `node -e "setInterval(()=>{},1e9)"` beside them (the memory floor of any Node
// process), one shared idle window of idleS seconds: CPU = utime+stime over the window, memory =
// VmRSS / PSS (smaps_rollup) / RssAnon / VmHWM at its end (and at its start, in the JSON), each for the one supervisor process (tend has no
// helper processes yet; the services are not counted). Finally SIGINT: ms until the supervisor has
// exited, and how many of its N service processes are still alive (/proc state) at that moment.
import fs from 'node:fs';
import path from 'node:path';
import {
  workdir,
  markerService,
  markerPids,
  tendConfig,
  floorConfig,
  launch,
  launchTend,
  launchFloor,
  stopProc,
  waitFor,
  alive,
  cpuS,
  memMiB,
  nowMs,
  sleep,
  log,
} from './lib.mjs';

async function fleet(kind, n) {
  const dir = workdir(`scale-${kind}`);
  const services = Array.from({ length: n }, (_, i) => markerService(dir, `s${i}`));
  const cfg = kind === 'tend' ? tendConfig(dir, services, { restart: 'always' }) : floorConfig(dir, services);
  const t0 = nowMs();
  const proc = kind === 'tend' ? launchTend(dir, cfg) : launchFloor(dir, cfg);
  const marks = path.join(dir, 'marks');
  const f = { kind, dir, n, proc };
  try {
    await waitFor(() => fs.readdirSync(marks).length >= n, { timeoutMs: 60000, everyMs: 2, what: `${n} ${kind} services running` });
    f.all_running_ms = +(nowMs() - t0).toFixed(1);
  } catch (e) {
    f.error = `${e.message}; stderr: ${proc.stderr().slice(0, 300)}`;
  }
  return f;
}

const servicePids = (f) => Array.from({ length: f.n }, (_, i) => markerPids(f.dir, `s${i}`));

export async function scale({ n, idleS }) {
  const res = { n, idle_s: idleS, errors: [] };
  const fleets = [];
  let bare;
  try {
    for (const kind of ['tend', 'floor']) {
      const f = await fleet(kind, n);
      fleets.push(f);
      if (f.error) throw new Error(`${kind}: ${f.error}`);
      log(`scale: ${kind} ran ${n} services in ${f.all_running_ms} ms`);
    }
    bare = launch(workdir('scale-bare'), 'bare', ['-e', 'setInterval(()=>{},1e9)']);
    await sleep(1000); // let start-up work (GC, lazy compilation) finish before the window opens
    const procs = [...fleets.map((f) => f.proc), bare];
    const c0 = procs.map(cpuS);
    const m0 = procs.map((p) => memMiB(p.pid));
    log(`scale: idle window ${idleS} s`);
    await sleep(idleS * 1000);
    const c1 = procs.map(cpuS);
    procs.forEach((p, i) => {
      const cpu = c0[i] === null || c1[i] === null ? null : c1[i] - c0[i];
      res[p.tag] = {
        ...(res[p.tag] ?? {}),
        mem_mib_window_start: m0[i],
        mem_mib: memMiB(p.pid),
        idle_cpu_s: cpu === null ? null : +cpu.toFixed(2),
        idle_cpu_pct: cpu === null ? null : +((cpu / idleS) * 100).toFixed(3),
      };
    });
  } catch (e) {
    res.errors.push(e.message);
    log(`scale: ${e.message}`);
  } finally {
    for (const f of fleets) {
      const pids = servicePids(f);
      const stop = await stopProc(f.proc);
      const stillAlive = pids.filter((ps) => ps.length && alive(ps.at(-1))).length;
      res[f.kind] = {
        ...(res[f.kind] ?? {}),
        all_running_ms: f.all_running_ms ?? null,
        stop_ms: stop.ms,
        exit_code: stop.code ?? null,
        services_alive_after_exit: stillAlive,
        restarts: pids.reduce((a, ps) => a + Math.max(0, ps.length - 1), 0),
      };
      if (stop.error) res.errors.push(`${f.kind} stop: ${stop.error}`);
      if (stillAlive) res.errors.push(`${f.kind}: ${stillAlive} services still alive after it exited`);
      log(`scale: ${f.kind} stopped ${n} services in ${stop.ms} ms`);
    }
    if (bare) await stopProc(bare);
  }
  return res;
}
