// 1. Respawn latency: ms from SIGKILL of a service's process to its replacement having started, i.e.
// having appended its PID to its marker file (shell builtin, the first thing the new `sh` does).
// Detection: inotify on the marker dir + a 2 ms poll backstop (sub-ms figures are not meaningful).
// tend (restart: always, backoff.initial 0 — the least it allows — and a start limit it never reaches)
// and the floor (floor-supervisor.mjs: respawn in the 'exit' handler) run side by side, one marker
// service each; kills alternate between them (order flipped every round), each kill once the current
// process has been up for `gap` ms after its marker appeared, so both see the same machine.
// Also checks that tend's events.jsonl names exactly the PIDs the markers saw ('spawned' events).
import fs from 'node:fs';
import path from 'node:path';
import {
  workdir,
  markerService,
  markerPids,
  markerReaches,
  tendConfig,
  floorConfig,
  launchTend,
  launchFloor,
  stopProc,
  readStat,
  safeKill,
  nowMs,
  sleep,
  summary,
  log,
} from './lib.mjs';

export async function respawn({ kills, gapMs }) {
  const sides = [];
  const res = { kills, gap_ms: gapMs, errors: [] };
  try {
    for (const [tag, setup] of [
      [
        'tend',
        (dir, svc) =>
          launchTend(
            dir,
            tendConfig(dir, [svc], { restart: 'always', backoff: { initial: '0ms' }, start_limit: { burst: 100000, interval: '1s' } }),
          ),
      ],
      ['floor', (dir, svc) => launchFloor(dir, floorConfig(dir, [svc]))],
    ]) {
      const dir = workdir(`respawn-${tag}`);
      const proc = setup(dir, markerService(dir, 's0'));
      sides.push({ tag, dir, proc, ms: [], seenAt: 0 });
    }
    for (const s of sides) s.seenAt = await markerReaches(s.dir, 's0', 1, 15000);
    for (let k = 0; k < kills; k++) {
      for (const s of k % 2 ? [...sides].reverse() : sides) {
        const pids = markerPids(s.dir, 's0');
        const wait = gapMs - (nowMs() - s.seenAt);
        if (wait > 0) await sleep(wait);
        const pid = pids.at(-1);
        const st = readStat(pid);
        const t0 = nowMs();
        if (!st || !safeKill(pid, 'SIGKILL', st.starttime)) throw new Error(`${s.tag}: service pid ${pid} not alive before kill ${k + 1}`);
        s.seenAt = await markerReaches(s.dir, 's0', pids.length + 1);
        s.ms.push(s.seenAt - t0);
      }
    }
  } catch (e) {
    res.errors.push(e.message);
    log(`respawn: ${e.message}`);
  } finally {
    for (const s of sides) {
      const stop = await stopProc(s.proc);
      if (stop.error) res.errors.push(`${s.tag} stop: ${stop.error}`);
      res[s.tag] = { ...summary(s.ms), samples_ms: s.ms.map((v) => +v.toFixed(3)) };
    }
  }
  // tend's own record must agree with the markers: one 'spawned' event per start, same PIDs.
  const t = sides.find((s) => s.tag === 'tend');
  if (t) {
    let spawned = [];
    try {
      spawned = fs
        .readFileSync(path.join(t.dir, 'logs', 'events.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.kind === 'spawned')
        .map((e) => e.pid);
    } catch (e) {
      res.errors.push(`events.jsonl: ${e.message}`);
    }
    const marks = markerPids(t.dir, 's0');
    res.tend_events_match_markers = spawned.length === marks.length && spawned.every((p, i) => p === marks[i]);
    if (!res.tend_events_match_markers)
      res.errors.push(`events.jsonl has ${spawned.length} spawned PIDs, markers ${marks.length}, or they differ`);
  }
  return res;
}
