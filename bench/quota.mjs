// Quota (issue 7's reproduction): detached tend on 20% of one core. A cgroup v1 cpu group (cpu.cfs_period_us
// 100000, cpu.cfs_quota_us BENCH_QUOTA_US = 20000) under /sys/fs/cgroup/cpu; `tend up -d` of N `sleep 100000`
// services (restart: always), then `tend ps --json`, then `tend down`, each CLI run inside the group (sh writes its
// PID to cgroup.procs, then execs node), so the keeper, the engine and the services it starts are in it too.
// BENCH_QUOTA_RUNS runs for each N in BENCH_QUOTA_N (a list: "200,500"), each in a fresh project. Per run:
//   keeper death   the keeper (found by its cmdline: keeper/main.js + this config) gone before `down` is run, or
//                  an `up -d` that failed (exit code != 0)
//   hung kills     engines the keeper killed as hung: lines "is hung" (e923ea8 and later) or "did not answer for"
//                  (earlier builds) in the project's engine.log in the runtime dir; "died" lines (engine deaths of
//                  any cause), keeper "internal error" lines and uncaught-exception stacks are counted beside them
//   orphans        service processes alive with no keeper (seen before `down`), or still alive once `down` has
//                  returned and the keeper has exited
//   duplicates     services with more than one live process at any sample: each service carries a unique env token
//                  (BENCH_QUOTA_TOKEN=<run>.s<i>), counted in /proc/*/environ (TEND_SERVICE cross-checked) every
//                  BENCH_QUOTA_SAMPLE_MS (500) from the `up -d` to the end of the run, and at every step
//   timings        all_running_ms: `up -d` launched -> every service has a live process (sampled every 500 ms
//                  while `up -d` runs, every 50 ms once it has returned); up_ms, ps_ms
//                  (`tend ps --json` wall time, with its count of running units), down_ms (`tend down` wall time),
//                  down_gone_ms (-> keeper, engine and every service gone)
// Whatever a run leaves (services, keeper, engine) is SIGKILLed by PID with its start time checked, and counted.
// The group is removed (rmdir once empty) at the end. Skipped, with the reason, when the group cannot be written.
import fs from 'node:fs';
import path from 'node:path';
import {
  TEND,
  RUN_ID,
  ENV_KEY,
  workdir,
  runCmd,
  tendPaths,
  readStat,
  alive,
  safeKill,
  waitFor,
  nowMs,
  sleep,
  summary,
  log,
} from './lib.mjs';

const CPU_ROOTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
const r1 = (v) => (typeof v === 'number' ? +v.toFixed(1) : null);
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function cpuRoot() {
  for (const dir of CPU_ROOTS) {
    try {
      fs.accessSync(path.join(dir, 'cgroup.procs'), fs.constants.W_OK);
      if (fs.existsSync(path.join(dir, 'cpu.cfs_quota_us'))) return { dir };
    } catch (e) {
      if (fs.existsSync(dir)) return { reason: `${dir}/cgroup.procs is not writable (${e.code}); needs root` };
    }
  }
  return { reason: `no cgroup v1 cpu controller mounted (${CPU_ROOTS.join(', ')})` };
}

/** Live processes carrying BENCH_QUOTA_TOKEN=<token>.<service>: Map service -> [{pid, starttime, tendService}]. */
function copies(token) {
  const needle = `BENCH_QUOTA_TOKEN=${token}.`;
  const found = new Map();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let env;
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.includes(needle)) continue;
    const vars = env.split('\0');
    const svc = vars.find((v) => v.startsWith(needle))?.slice(needle.length);
    const st = readStat(pid);
    if (!svc || !st || st.state === 'Z' || st.state === 'X') continue;
    const tendService = vars.find((v) => v.startsWith('TEND_SERVICE='))?.slice(13) ?? null;
    found.set(svc, [...(found.get(svc) ?? []), { pid, starttime: st.starttime, tendService }]);
  }
  return found;
}
const countLive = (m) => [...m.values()].reduce((a, ps) => a + ps.length, 0);

/** Keeper and engine of the project whose config is `cfg`, from their command lines. */
function tendProcs(cfg) {
  const out = { keeper: null, engine: null };
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv.includes(cfg)) continue;
    const st = readStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    if (argv.some((a) => a.endsWith('keeper/main.js'))) out.keeper = { pid, starttime: st.starttime };
    else if (argv.includes('engine') && argv.includes('--keeper')) out.engine = { pid, starttime: st.starttime };
  }
  return out;
}

function writeConfig(dir, n, token) {
  const cfg = path.join(dir, 'tend.yaml');
  const j = JSON.stringify;
  const lines = [`log_dir: ${j(path.join(dir, 'logs'))}`, 'services:'];
  for (let i = 0; i < n; i++)
    lines.push(`  s${i}: ${j({ command: ['sleep', '100000'], restart: 'always', env: { BENCH_QUOTA_TOKEN: `${token}.s${i}` } })}`);
  fs.writeFileSync(cfg, `${lines.join('\n')}\n`);
  return cfg;
}

async function oneRun({ group, n, run, sampleMs, upTimeoutMs }) {
  const dir = workdir(`quota-${n}-${run}`);
  const token = `${RUN_ID}.q${n}.${run}`;
  const cfg = writeConfig(dir, n, token);
  const inQuota = (args, timeoutMs) =>
    runCmd(
      ['/bin/sh', '-c', `echo $$ > ${q(path.join(group, 'cgroup.procs'))} && exec "$@"`, 'sh', process.execPath, TEND, ...args, '-f', cfg],
      { cwd: dir, timeoutMs, maxOut: 16 << 20 },
    );
  const res = {
    n,
    run,
    keeper_death: false,
    hung_kills: 0,
    engine_deaths: 0,
    keeper_internal_errors: 0,
    orphans: 0,
    duplicates: 0,
    duplicated_services: [],
    notes: [],
  };
  const dupSeen = new Map(); // service -> max live copies seen
  let keeper = null,
    allRunningAt = null,
    noKeeperOrphans = 0;
  const note = (s) => {
    res.notes.push(s);
    log(`quota: N=${n} run ${run}: ${s}`);
  };
  const sample = () => {
    const m = copies(token);
    for (const [svc, ps] of m) if (ps.length > 1) dupSeen.set(svc, Math.max(dupSeen.get(svc) ?? 0, ps.length));
    for (const [svc, ps] of m)
      for (const p of ps)
        if (p.tendService !== null && p.tendService !== svc)
          res.notes.length < 20 && note(`pid ${p.pid} has token ${svc} but TEND_SERVICE=${p.tendService}`);
    if (allRunningAt === null && m.size >= n) allRunningAt = nowMs();
    if (keeper && !alive(keeper.pid, keeper.starttime) && !res.downStarted) {
      if (!res.keeper_death) note(`keeper ${keeper.pid} gone before down; ${countLive(m)} services alive with no keeper`);
      res.keeper_death = true;
      noKeeperOrphans = Math.max(noKeeperOrphans, countLive(m));
    }
    return m;
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      sample();
      await sleep(sampleMs);
    }
  })();
  const t0 = nowMs();
  try {
    // 1. up -d, in the group
    const up = await inQuota(['up', '-d'], upTimeoutMs);
    res.up_ms = r1(up.ms);
    res.up_code = up.code ?? up.error;
    fs.writeFileSync(path.join(dir, 'up.out'), `${up.stdout}${up.stderr}`);
    const tp = tendProcs(cfg);
    keeper = tp.keeper;
    res.keeper_pid = keeper?.pid ?? null;
    res.engine_pid = tp.engine?.pid ?? null;
    if (up.code !== 0) {
      res.keeper_death = true;
      const out = (up.stderr || up.stdout).trim().split('\n');
      note(
        `up -d failed (exit ${up.code ?? up.error}) after ${res.up_ms} ms: ${[out[0], ...out.filter((l) => /^\w*Error\b|did not answer|is hung/.test(l))].join(' | ').slice(0, 400)}`,
      );
    }
    if (!keeper) {
      res.keeper_death = true;
      note('no keeper process after up -d');
    }
    // 2. every service running (the sampler notes the instant)
    if (up.code === 0) {
      // sampled every 50 ms from here on (the background sampler's 500 ms would blur the instant)
      await waitFor(
        () => {
          if (allRunningAt === null) sample();
          return allRunningAt !== null || (keeper && !alive(keeper.pid, keeper.starttime));
        },
        { timeoutMs: 120000, everyMs: 50, what: `${n} services running` },
      ).catch((e) => note(e.message));
    }
    res.all_running_ms = allRunningAt === null ? null : r1(allRunningAt - t0);
    // 3. ps --json, in the group
    const ps = await inQuota(['ps', '--json'], 120000);
    res.ps_ms = r1(ps.ms);
    res.ps_code = ps.code ?? ps.error;
    try {
      const units = JSON.parse(ps.stdout).units ?? [];
      res.ps_units = units.length;
      res.ps_running = units.filter((u) => (u.phase ?? u.state) === 'running').length;
    } catch {
      res.ps_units = null;
    }
    if (ps.code !== 0) note(`ps --json exited ${ps.code ?? ps.error}: ${ps.stderr.trim().slice(0, 200)}`);
    // 4. down, in the group (the keeper checked first)
    sample();
    res.downStarted = true;
    const live = (p) => p && alive(p.pid, p.starttime);
    const keeperBeforeDown = live(keeper);
    const engineBefore = tendProcs(cfg).engine;
    const tDown = nowMs();
    const down = await inQuota(['down'], 180000);
    res.down_ms = r1(down.ms);
    res.down_code = down.code ?? down.error;
    if (down.code !== 0) note(`down exited ${down.code ?? down.error}: ${(down.stderr || down.stdout).trim().slice(0, 200)}`);
    // 5. orphans: services alive once down has returned and the keeper has exited
    await waitFor(() => !live(keeper) && !live(engineBefore), {
      timeoutMs: 60000,
      everyMs: 20,
      what: 'keeper and engine to exit after down',
    }).catch((e) => note(e.message));
    const after = copies(token);
    res.orphans = Math.max(noKeeperOrphans, countLive(after));
    if (countLive(after))
      note(`${countLive(after)} services alive after down returned and the keeper exited (keeper alive before down: ${keeperBeforeDown})`);
    await waitFor(() => countLive(copies(token)) === 0, { timeoutMs: 10000, everyMs: 20, what: 'services to exit' }).then(
      () => {
        res.down_gone_ms = r1(nowMs() - tDown);
      },
      () => {},
    );
  } catch (e) {
    note(`error: ${e.message}`);
    res.error = e.message;
  } finally {
    sampling = false;
    await sampler;
    res.downStarted = undefined;
    res.duplicated_services = [...dupSeen].map(([svc, c]) => `${svc}x${c}`);
    res.duplicates = dupSeen.size;
    if (res.duplicates) note(`duplicates: ${res.duplicated_services.slice(0, 10).join(' ')}`);
    // 6. engine.log of the project
    try {
      const { engineLog } = await tendPaths(cfg);
      const text = fs.readFileSync(engineLog, 'utf8');
      const lines = text.split('\n');
      const hung = lines.filter((l) => /is hung|did not answer for/.test(l));
      res.hung_kills = hung.length;
      res.engine_deaths = lines.filter((l) => /engine \d+ died/.test(l)).length;
      res.keeper_internal_errors = lines.filter((l) => /internal error/.test(l)).length;
      // a keeper killed by an exception nothing caught (Node prints the stack to engine.log, its stderr)
      res.uncaught_crashes = lines.filter((l) => /^Node\.js v\d+/.test(l)).length; // Node's last line after a fatal exception
      res.engine_starts = lines.filter((l) => /engine \d+ started/.test(l)).length;
      res.engine_log_evidence = lines
        .filter((l) => /is hung|did not answer for|died|internal error|ended s\d+|warning|^\w*Error\b|Unhandled 'error'/.test(l))
        .slice(0, 8)
        .map((l) => l.slice(0, 300));
    } catch (e) {
      res.engine_log_error = e.message;
    }
    // 7. anything left: SIGKILL by PID (start time checked), counted
    const left = [...copies(token).values()].flat();
    const tp = tendProcs(cfg);
    for (const p of [...left, tp.keeper, tp.engine].filter(Boolean)) safeKill(p.pid, 'SIGKILL', p.starttime);
    res.killed_after_run = left.length + (tp.keeper ? 1 : 0) + (tp.engine ? 1 : 0);
    if (res.killed_after_run)
      note(
        `killed after the run: ${left.length} services${tp.keeper ? `, keeper ${tp.keeper.pid}` : ''}${tp.engine ? `, engine ${tp.engine.pid}` : ''}`,
      );
    if (res.killed_after_run) await waitFor(() => countLive(copies(token)) === 0, { timeoutMs: 10000, everyMs: 50 }).catch(() => {});
  }
  return res;
}

export async function quota({ quotaNs, quotaRuns, quotaUs, quotaSampleMs }) {
  const res = { tend_bin: TEND, ns: quotaNs, runs_per_n: quotaRuns, cfs_quota_us: quotaUs, cfs_period_us: 100000, errors: [] };
  const root = cpuRoot();
  if (!root.dir) {
    res.skipped = root.reason;
    log(`quota: skipped: ${root.reason}`);
    return res;
  }
  const group = path.join(root.dir, `tend-bench-${RUN_ID}`);
  try {
    fs.mkdirSync(group);
    fs.writeFileSync(path.join(group, 'cpu.cfs_period_us'), '100000');
    fs.writeFileSync(path.join(group, 'cpu.cfs_quota_us'), String(quotaUs));
  } catch (e) {
    res.skipped = `cannot set up the cgroup ${group}: ${e.message}`;
    log(`quota: skipped: ${res.skipped}`);
    try {
      fs.rmdirSync(group);
    } catch {}
    return res;
  }
  res.cgroup = group;
  res.by_n = [];
  try {
    for (const n of quotaNs) {
      const runs = [];
      for (let run = 0; run < quotaRuns; run++) {
        const r = await oneRun({ group, n, run, sampleMs: quotaSampleMs, upTimeoutMs: 120000 + n * 600 });
        runs.push(r);
        log(
          `quota: N=${n} run ${run + 1}/${quotaRuns}: up ${r.up_ms} ms (exit ${r.up_code}), all running ${r.all_running_ms ?? 'never'} ms, ps ${r.ps_ms} ms (${r.ps_running ?? '?'} running), down ${r.down_ms} ms; keeper death ${r.keeper_death}, hung kills ${r.hung_kills}, orphans ${r.orphans}, duplicates ${r.duplicates}`,
        );
        await sleep(1000);
      }
      const s = (k) => summary(runs.map((r) => r[k]).filter((v) => typeof v === 'number'));
      const sum = (k) => runs.reduce((a, r) => a + (Number(r[k]) || 0), 0);
      res.by_n.push({
        n,
        runs: runs.length,
        keeper_deaths: runs.filter((r) => r.keeper_death).length,
        up_failures: runs.filter((r) => r.up_code !== 0).length,
        hung_kills: sum('hung_kills'),
        engine_deaths: sum('engine_deaths'),
        keeper_internal_errors: sum('keeper_internal_errors'),
        uncaught_crashes: sum('uncaught_crashes'),
        orphans: sum('orphans'),
        runs_with_orphans: runs.filter((r) => r.orphans > 0).length,
        duplicates: sum('duplicates'),
        runs_with_duplicates: runs.filter((r) => r.duplicates > 0).length,
        killed_after_runs: sum('killed_after_run'),
        up_ms: s('up_ms'),
        all_running_ms: s('all_running_ms'),
        ps_ms: s('ps_ms'),
        down_ms: s('down_ms'),
        down_gone_ms: s('down_gone_ms'),
        ps_all_running: runs.filter((r) => r.ps_running === n).length,
        detail: runs,
      });
    }
  } catch (e) {
    res.errors.push(e.message);
    log(`quota: ${e.stack}`);
  } finally {
    // the group goes once empty; anything of this run still in it is SIGKILLed by PID (start time checked)
    const procs = () => {
      try {
        return fs.readFileSync(path.join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    await waitFor(() => procs().length === 0, { timeoutMs: 30000, everyMs: 100, what: 'the cgroup to be empty' }).catch(() => {
      for (const pid of procs()) {
        let env = '';
        try {
          env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
        } catch {}
        if (env.split('\0').includes(`${ENV_KEY}=${RUN_ID}`)) safeKill(pid, 'SIGKILL', readStat(pid)?.starttime);
      }
    });
    await waitFor(() => procs().length === 0, { timeoutMs: 10000, everyMs: 100 }).catch(() => {});
    try {
      fs.rmdirSync(group);
      res.cgroup_removed = true;
    } catch (e) {
      res.cgroup_removed = false;
      res.errors.push(`cgroup ${group} not removed: ${e.message} (procs: ${procs().join(' ')})`);
    }
  }
  return res;
}
