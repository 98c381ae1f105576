// Supplement to the peer bench's measure/crash.mjs, for tend only: the "engine only" mode its README asks for
// once tend has a keeper (crash.mjs kills every root, i.e. engine AND keeper). Same 5 services as crash.mjs
// (s0-s3 silent, s4 prints a line every 200 ms). SIGKILL the engine alone, do nothing, and measure:
//   engine_back_ms  until `tend ps --json` answers with a new engine PID (polled every 20 ms)
//   after CRASH_WAIT_S: services alive (the old PIDs), the printing one alive and its log still growing,
//   restarts meanwhile (marker lines), live copies per service (duplicates), which PIDs `tend ps` reports.
// Build without a keeper: the engine is the only root, nothing comes back by itself; reported as such.
// Runs inside the bench copy made by run.mjs (imports its lib/ and adapters/). Knobs: CRASH_WAIT_S=3, RESULTS_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { loadAvailable } from './adapters/index.mjs';
import { knob, workdir, rmdir, makeServices, markerScript, readMarker, benchEnv, sweep, emit, log } from './lib/util.mjs';
import { waitFor, sleep, alive, readStat, safeKill, nowMs, run, descendants } from './lib/proc.mjs';

const WAIT_S = knob('CRASH_WAIT_S', 3);
const REPS = knob('TEND_CRASH_REPS', 3);
const chattyScript = (marks, name) =>
  `#!/bin/sh\necho $$ >> '${path.join(marks, name)}'\ni=0\nwhile [ $i -lt 100000 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done\n`;

async function once({ adapter, version }) {
  const dir = workdir('tendcrash');
  const marks = path.join(dir, 'marks');
  fs.mkdirSync(marks);
  const services = makeServices(dir, 5, (name, i) => (i === 4 ? chattyScript(marks, name) : markerScript(marks, name)));
  const inst = adapter.create({ dir, services, env: benchEnv() });
  const res = { peer: 'tend', version, mode: 'engine only' };
  const st = new Map();
  const remember = () => {
    for (const s of services)
      for (const pid of readMarker(marks, s.name).all || []) if (!st.has(pid)) st.set(pid, readStat(pid)?.starttime);
  };
  const liveCopies = (s) => (readMarker(marks, s.name).all || []).filter((pid) => alive(pid, st.get(pid)));
  const psJson = async () => {
    const { cmd, args, env } = inst.statusCommand();
    const r = await run(cmd, args, { env, timeoutMs: 5000 });
    try {
      return r.code === 0 ? JSON.parse(r.stdout) : null;
    } catch {
      return null;
    }
  };
  try {
    await inst.writeConfig();
    await inst.start();
    await waitFor(() => services.every((s) => readMarker(marks, s.name).count >= 1), { timeoutMs: 60000, what: '5 services' });
    await sleep(1500);
    remember();
    const before = Object.fromEntries(services.map((s) => [s.name, readMarker(marks, s.name).pid]));
    const ps0 = await psJson();
    const enginePid = ps0?.engine?.pid;
    const roots = await inst.roots();
    res.roots = roots.map((p) => `${p}:${readStat(p)?.comm}`);
    res.has_keeper = roots.length > 1;
    const log0 = fs.statSync(inst.logFile(4)).size;
    const t0 = nowMs();
    if (!safeKill(enginePid, 'SIGKILL', readStat(enginePid)?.starttime)) throw new Error(`engine ${enginePid} not found`);
    const back = await waitFor(
      async () => {
        const j = await psJson();
        return j && j.engine.pid !== enginePid ? j : null;
      },
      { timeoutMs: WAIT_S * 1000 + 7000, everyMs: 20, what: 'a new engine' },
    ).catch(() => null);
    res.engine_back_ms = back ? Math.round(nowMs() - t0) : null;
    await sleep(Math.max(0, WAIT_S * 1000 - (nowMs() - t0)));
    remember();
    const copies = Object.fromEntries(services.map((s) => [s.name, liveCopies(s).length]));
    const view = {};
    for (const u of (await psJson())?.units || []) view[u.service ?? u.unit] = u;
    const log1 = fs.statSync(inst.logFile(4)).size;
    Object.assign(res, {
      old_pids_alive: services.filter((s) => alive(before[s.name], st.get(before[s.name]))).length,
      chatty_alive: alive(before.s4, st.get(before.s4)),
      chatty_log_grew_bytes: log1 - log0,
      restarted_meanwhile: services.filter((s) => readMarker(marks, s.name).count > 1).length,
      duplicated: Object.values(copies).filter((c) => c > 1).length,
      missing: Object.values(copies).filter((c) => c === 0).length,
      ps_reports_old_pid: services.filter((s) => view[s.name]?.pid === before[s.name]).length,
      ps_restarts: services.map((s) => view[s.name]?.restarts ?? null),
    });
  } catch (e) {
    res.error = e.message;
    log(`tend crash: ${e.message}`);
  } finally {
    await inst.stopAll().catch(() => {});
    await sleep(300);
    remember();
    let killed = 0;
    for (const [pid, t] of st) {
      if (!alive(pid, t)) continue;
      const kids = descendants([pid]).map((k) => [k, readStat(k)?.starttime]);
      if (safeKill(pid, 'SIGKILL', t)) killed++;
      for (const [k, kt] of kids) safeKill(k, 'SIGKILL', kt);
    }
    res.cleanup_killed_by_pid = killed;
    res.leftovers = await sweep();
    rmdir(dir);
  }
  return res;
}

const [p] = await loadAvailable(['tend'], log);
if (!p) process.exit(1);
const results = [];
for (let rep = 0; rep < REPS; rep++) {
  log(`tend-crash: SIGKILL the engine only (rep ${rep + 1}/${REPS})`);
  results.push({ rep, ...(await once(p)) });
}
const rows = results.map((r) => ({
  peer: 'tend',
  killed: 'engine only',
  roots: (r.roots || []).join(','),
  'engine back ms': r.engine_back_ms ?? 'never',
  'old PIDs alive': `${r.old_pids_alive ?? ''}/5`,
  'chatty alive': r.chatty_alive ? 'yes' : 'no',
  'chatty log +bytes': r.chatty_log_grew_bytes ?? '',
  'restarted meanwhile': r.restarted_meanwhile ?? '',
  'dup svcs': r.duplicated ?? '',
  'missing svcs': r.missing ?? '',
  'ps shows old PIDs': r.ps_reports_old_pid ?? '',
  'killed at cleanup': r.cleanup_killed_by_pid,
  err: r.error || '',
}));
emit('tend-crash', { knobs: { CRASH_WAIT_S: WAIT_S, TEND_CRASH_REPS: REPS }, results }, rows, Object.keys(rows[0]));
