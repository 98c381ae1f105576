// 5. Self-supervision (issue 4), against a detached `tend up -d`: N services = N-1 marker services plus
// one supervised HTTP server (http-service.mjs on 127.0.0.1:<free port>), all `restart: always`.
// - Memory: a bare `node -e "setInterval(()=>{},1e9)"` is launched just before `tend up -d`; after
//   `memSettleS` s, VmRSS / PSS (smaps_rollup) / RssAnon of the keeper (the engine's parent), the engine
//   and the bare node, read in the same instant. Again at the end (after the kills and the upgrade: a
//   young engine) in the JSON.
// - Engine kill: `engineKills` times, once the API answers and 200 ms later, SIGKILL to the engine (PID +
//   start time checked); then GET /v1/status (keep-alive off) every 2 ms until an answer comes from a NEW
//   engine pid: ms from the kill to that answer's last byte. Each answer's unit PIDs are compared with the
//   PIDs before the first kill (a different PID = changed; no PID = an answer given before the new engine
//   had the process table, counted apart); the markers show any restart.
// - The same kill `raceKills` times with 12 clients polling at once without pause: how often are the new
//   engine's first answers without the service PIDs? The keeper allows 30 free respawns a minute: keep
//   engineKills + raceKills <= 30 or its backoff shows up in the figures.
// - Planned upgrade: for `upgradeWindowMs` (3 s) a client here sends GET / to the HTTP service every 10 ms
//   (new connection each, 1 s timeout) and a prober sends GET /v1/status back to back with a 5 ms pause;
//   `tend upgrade -f CFG` runs 1 s into the window. Reported: requests sent / failed, the server's PID
//   (marker, /proc start time, status) before and after, the API gap = first answer of the new engine -
//   last answer of the old one (resolution: one probe, ~5 ms + its round trip), and the CLI's wall time.
// Then `tend down`; every service must be gone.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  BENCH_DIR,
  workdir,
  markerService,
  markerPids,
  tendConfig,
  launch,
  stopProc,
  waitFor,
  alive,
  readStat,
  safeKill,
  memMiB,
  sleep,
  nowMs,
  summary,
  log,
  tendCli,
  apiGet,
  tendStatus,
  daemonOf,
  upDetached,
  downDetached,
  freePort,
} from './lib.mjs';

/** GET http://127.0.0.1:port/ with a new connection: { ok, ms, error }. */
function httpGet(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const t0 = nowMs();
    let settled = false;
    const done = (r) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ ms: nowMs() - t0, ...r });
      }
    };
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        done({
          ok: res.statusCode === 200 && Buffer.concat(chunks).toString() === 'ok\n',
          error: res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`,
        }),
      );
      res.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
    });
    const timer = setTimeout(() => {
      done({ ok: false, error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
  });
}
const countBy = (xs) => xs.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
const pidMap = (status) => new Map(status.units.map((u) => [u.unit, u.pid]));
const mem = (p) => (p ? memMiB(p.pid) : null);

async function engineKills(ctx, kills, res) {
  const { socket, initial, keeper } = ctx;
  const changed = new Set(),
    missing = new Set();
  const rows = [];
  for (let k = 0; k < kills; k++) {
    const before = await tendStatus(socket);
    if (!before) throw new Error(`kill ${k + 1}: the API does not answer before the kill`);
    for (const [unit, pid] of pidMap(before)) if (initial.get(unit) !== pid) (pid ? changed : missing).add(unit);
    await sleep(200);
    const e = daemonOf(before).engine;
    const t0 = nowMs();
    if (!e || !safeKill(e.pid, 'SIGKILL', e.starttime)) throw new Error(`kill ${k + 1}: engine ${before.engine.pid} not alive`);
    const fails = [];
    let answer = null,
      status = null;
    for (;;) {
      const r = await apiGet(socket, '/v1/status', 2000);
      if (r.ok) {
        status = JSON.parse(r.body.toString());
        if (status.engine.pid !== e.pid) {
          answer = r;
          break;
        }
        fails.push('old engine');
      } else fails.push(r.error ?? `HTTP ${r.status}`);
      if (nowMs() - t0 > 15000)
        throw new Error(`kill ${k + 1}: no answer from a new engine within 15 s (${JSON.stringify(countBy(fails))})`);
      await sleep(2);
    }
    const ne = readStat(status.engine.pid);
    // A different PID is a changed service; no PID at all (an answer before the new engine has the
    // process table) is counted apart, with what it said.
    const differ = status.units.filter((u) => initial.get(u.unit) !== u.pid);
    const pidsChanged = differ.filter((u) => u.pid !== null && u.pid !== undefined);
    const noPid = differ.filter((u) => u.pid === null || u.pid === undefined);
    for (const u of pidsChanged) changed.add(u.unit);
    for (const u of noPid) missing.add(u.unit);
    const row = {
      ms: +(answer.at - t0).toFixed(1),
      old_pid: e.pid,
      new_pid: status.engine.pid,
      parent_is_keeper: ne?.ppid === keeper.pid,
      units: status.units.length,
      pids_changed: pidsChanged.length,
      no_pid: noPid.length,
      failed_probes: countBy(fails),
    };
    if (differ.length) row.sample = differ.slice(0, 3).map((u) => ({ unit: u.unit, pid: u.pid, phase: u.phase, was: initial.get(u.unit) }));
    rows.push(row);
  }
  const after = await tendStatus(socket);
  if (after) for (const [unit, pid] of pidMap(after)) if (initial.get(unit) !== pid) (pid ? changed : missing).add(unit);
  res.kills = {
    n: rows.length,
    ...summary(rows.map((r) => r.ms)),
    units_with_changed_pid: changed.size,
    units_answered_without_pid: missing.size,
    answers_without_pids: rows.filter((r) => r.no_pid).length,
    all_new_engines_children_of_keeper: rows.every((r) => r.parent_is_keeper),
    every_answer_had_all_units: rows.every((r) => r.units === initial.size),
    rows,
  };
}

/** The same kill, but 12 clients poll at once, without pause: do a new engine's FIRST answers already
 *  carry the service PIDs? (One poller every 2 ms rarely lands in the instant right after it binds.) */
async function raceKills(ctx, kills, res) {
  const { socket, initial } = ctx;
  const rows = [];
  for (let k = 0; k < kills; k++) {
    const before = await tendStatus(socket);
    if (!before) throw new Error(`race kill ${k + 1}: the API does not answer before the kill`);
    await sleep(200);
    const e = daemonOf(before).engine;
    const t0 = nowMs();
    if (!e || !safeKill(e.pid, 'SIGKILL', e.starttime)) throw new Error(`race kill ${k + 1}: engine ${before.engine.pid} not alive`);
    const answers = [];
    const poll = async () => {
      while (nowMs() - t0 < 15000) {
        const r = await apiGet(socket, '/v1/status', 2000);
        if (!r.ok) continue;
        const status = JSON.parse(r.body.toString());
        if (status.engine.pid === e.pid) continue;
        const noPid = status.units.filter((u) => u.pid === null || u.pid === undefined);
        const other = status.units.filter((u) => u.pid && initial.get(u.unit) !== u.pid);
        answers.push({
          ms: +(r.at - t0).toFixed(1),
          no_pid: noPid.length,
          pid_changed: other.length,
          phases: countBy(noPid.map((u) => u.phase)),
        });
        return;
      }
    };
    await Promise.all(Array.from({ length: 12 }, poll));
    rows.push({
      answers: answers.length,
      with_no_pid: answers.filter((a) => a.no_pid).length,
      with_changed_pid: answers.filter((a) => a.pid_changed).length,
      first: answers.sort((a, b) => a.ms - b.ms)[0],
      bad: answers.filter((a) => a.no_pid || a.pid_changed).slice(0, 2),
    });
  }
  res.race = {
    kills: rows.length,
    clients: 12,
    kills_with_pidless_answer: rows.filter((r) => r.with_no_pid).length,
    kills_with_changed_pid_answer: rows.filter((r) => r.with_changed_pid).length,
    answers: rows.reduce((a, r) => a + r.answers, 0),
    pidless_answers: rows.reduce((a, r) => a + r.with_no_pid, 0),
    rows,
  };
}

async function upgrade(ctx, windowMs, res) {
  const { dir, cfg, socket, port } = ctx;
  const serverPid = markerPids(dir, 'http').at(-1);
  const serverStat = readStat(serverPid);
  const before = await tendStatus(socket);
  const oldEngine = before.engine.pid;
  const statusPid = (s) => s.units.find((u) => (u.label ?? u.unit) === 'http')?.pid;
  const t0 = nowMs();
  const end = { at: t0 + windowMs };
  // HTTP client: one request every 10 ms, concurrent if one takes longer.
  const requests = [];
  const ticker = setInterval(() => {
    if (nowMs() < end.at) requests.push(httpGet(port));
  }, 10);
  // API prober: back to back, 5 ms apart.
  const probes = [];
  const prober = (async () => {
    while (nowMs() < end.at) {
      const r = await apiGet(socket, '/v1/status', 1000);
      let pid = null;
      if (r.ok) {
        try {
          pid = JSON.parse(r.body.toString()).engine.pid;
        } catch {}
      }
      probes.push({ at: r.at - t0, ok: r.ok && pid !== null, pid, error: r.error ?? (r.ok ? undefined : `HTTP ${r.status}`) });
      await sleep(5);
    }
  })();
  await sleep(1000);
  const u0 = nowMs();
  const cli = await tendCli(['upgrade', '-f', cfg], { cwd: dir, timeoutMs: 30000 });
  const u1 = nowMs();
  end.at = Math.max(end.at, u1 + 500); // at least 500 ms of traffic after the CLI returned
  await prober;
  clearInterval(ticker);
  const answers = await Promise.all(requests);
  const after = await tendStatus(socket);
  const lastOld = probes.filter((p) => p.ok && p.pid === oldEngine).at(-1);
  const firstNew = probes.find((p) => p.ok && p.pid !== oldEngine);
  const marks = markerPids(dir, 'http');
  res.upgrade = {
    window_ms: Math.round(end.at - t0),
    cli_ms: +(u1 - u0).toFixed(1),
    cli_code: cli.code,
    cli_out: cli.stdout.trim() || cli.stderr.trim().slice(0, 300),
    old_engine: oldEngine,
    new_engine: after?.engine.pid ?? null,
    http: {
      sent: answers.length,
      ok: answers.filter((a) => a.ok).length,
      failed: answers.filter((a) => !a.ok).length,
      errors: countBy(answers.filter((a) => !a.ok).map((a) => a.error)),
      latency_ms: summary(answers.filter((a) => a.ok).map((a) => a.ms)),
    },
    server_pid_before: serverPid,
    server_pid_after_status: after ? statusPid(after) : null,
    server_starts: marks.length,
    server_same_pid:
      marks.length === 1 &&
      alive(serverPid, serverStat?.starttime) &&
      after !== null &&
      statusPid(after) === serverPid &&
      statusPid(before) === serverPid,
    api: {
      probes: probes.length,
      failed: probes.filter((p) => !p.ok).length,
      errors: countBy(probes.filter((p) => !p.ok).map((p) => p.error)),
      gap_ms: lastOld && firstNew ? +(firstNew.at - lastOld.at).toFixed(1) : null,
      upgrade_cli_started_at_ms: +(u0 - t0).toFixed(1),
      last_old_answer_at_ms: lastOld ? +lastOld.at.toFixed(1) : null,
      first_new_answer_at_ms: firstNew ? +firstNew.at.toFixed(1) : null,
    },
  };
  if (cli.code !== 0) throw new Error(`tend upgrade exited ${cli.code ?? cli.error}: ${cli.stderr.slice(0, 300)}`);
}

export async function selfsup({ n, engineKills: kills, raceKills: raceKillsN = 0, memSettleS, upgradeWindowMs = 3000 }) {
  const res = { n, engine_kills: kills, race_kills: raceKillsN, mem_settle_s: memSettleS, errors: [] };
  const dir = workdir('selfsup');
  const port = await freePort();
  const markers = Array.from({ length: n - 1 }, (_, i) => markerService(dir, `s${i}`));
  const server = {
    name: 'http',
    argv: [process.execPath, path.join(BENCH_DIR, 'http-service.mjs'), String(port), path.join(dir, 'marks', 'http')],
  };
  const cfg = tendConfig(dir, [...markers, server], { restart: 'always' });
  const names = [...markers, server].map((s) => s.name);
  const bare = launch(workdir('selfsup-bare'), 'bare', ['-e', 'setInterval(()=>{},1e9)']);
  let d = null;
  try {
    d = await upDetached(dir, cfg);
    await waitFor(() => fs.readdirSync(path.join(dir, 'marks')).length >= n, {
      timeoutMs: 60000,
      everyMs: 5,
      what: `${n} services running`,
    });
    const t = nowMs();
    for (;;) {
      if ((await httpGet(port)).ok) break;
      if (nowMs() - t > 10000) throw new Error(`HTTP service on ${port} does not answer`);
      await sleep(20);
    }
    const initialStatus = await tendStatus(d.socket);
    const initial = pidMap(initialStatus);
    if (initial.size !== n || [...initial.values()].some((p) => !p))
      throw new Error(`status lists ${initial.size} units with a pid, want ${n}`);
    const ctx = { dir, cfg, port, socket: d.socket, initial, keeper: d.keeper };

    log(`selfsup: memory after ${memSettleS} s`);
    await sleep(memSettleS * 1000);
    res.mem = { keeper: mem(d.keeper), engine: mem(d.engine), bare: mem(bare), keeper_pid: d.keeper.pid, engine_pid: d.engine.pid };

    log(`selfsup: ${kills} engine kills`);
    try {
      await engineKills(ctx, kills, res);
    } catch (e) {
      res.errors.push(`engine kills: ${e.message}`);
      log(`selfsup: ${e.message}`);
    }
    if (raceKillsN > 0) {
      log(`selfsup: ${raceKillsN} engine kills with 12 clients polling at once`);
      try {
        await raceKills(ctx, raceKillsN, res);
      } catch (e) {
        res.errors.push(`race kills: ${e.message}`);
        log(`selfsup: ${e.message}`);
      }
    }
    await sleep(300);
    log(`selfsup: upgrade with HTTP traffic (${upgradeWindowMs} ms window)`);
    try {
      await upgrade(ctx, upgradeWindowMs, res);
    } catch (e) {
      res.errors.push(`upgrade: ${e.message}`);
      log(`selfsup: ${e.message}`);
    }
    await sleep(500);
    const last = await tendStatus(d.socket);
    const firstKeeper = d.keeper;
    if (last) {
      const now = daemonOf(last);
      res.keeper_same = now.keeper?.pid === firstKeeper.pid && alive(firstKeeper.pid, firstKeeper.starttime);
      res.mem_end = {
        keeper: mem(now.keeper),
        engine: mem(now.engine),
        bare: mem(bare),
        engine_pid: now.engine?.pid,
        note: 'after the kills and the upgrade: the engine is young',
      };
      d = { ...d, ...now };
      res.restarts_total = last.units.reduce((a, u) => a + u.restarts, 0);
    }
    res.services_restarted = names.filter((name) => markerPids(dir, name).length > 1).length;
  } catch (e) {
    res.errors.push(e.message);
    log(`selfsup: ${e.message}`);
  } finally {
    if (d) {
      const down = await downDetached(dir, cfg, d);
      res.down_ms = down.ms;
      if (down.error) res.errors.push(`tend down: ${down.error}`);
    }
    const left = names.filter((name) => {
      const p = markerPids(dir, name).at(-1);
      return p && alive(p);
    }).length;
    if (left) res.errors.push(`${left} services still alive after tend down`);
    await stopProc(bare);
  }
  return res;
}
