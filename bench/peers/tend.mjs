// tend adapter for the shared peer bench (../shared/peer-bench). It implements the interface in that
// bench's adapters/index.mjs and is meant to sit there as adapters/tend.mjs: it imports the bench's
// ../lib/proc.mjs. bench/peers/run.mjs copies the bench to a scratch dir and drops this file in, so the
// shared folder is never edited. One project per work dir, driven through tend's CLI:
//
//   writeConfig()   <dir>/tend.yaml: every service argv, restart: always, backoff 0, start limit out of reach,
//                   its log file under <dir>/logs (no rotation within a run)
//   start()         tend up -d -f <dir>/tend.yaml          (TEND_RUNTIME_DIR=<dir>/run: socket, lock, state)
//   roots()         the engine and — in builds that have one (37a72e1 and later) — the keeper, from
//                   <dir>/run/<id>/state.json (a journal: a JSON snapshot line, then one appended line per change),
//                   start times checked. Two layouts:
//                     e923ea8 and later: the keeper writes it, {"holder":{pid,startTime},"units":{..}} + lines
//                       {"unit","record"}; holder = keeper; the engine = the keeper's child whose cmdline has
//                       `engine --keeper` (/proc/<keeper>/task/<keeper>/children)
//                     earlier: the engine writes it, {"engine":{pid,startTime},"units":{..}} + lines {"unit","process"};
//                       the keeper = the engine's parent when that is tend's keeper/main.js
//                   A unit record may be an intent ({"spawning":{since,cwd}}, no pid yet): skipped where a pid is needed.
//                   The keeper, once seen, is remembered (it outlives engines and the journal exists only from the
//                   first spawn on, and is removed by a clean `down`).
//   pids()/pidOf()  tend ps --json -f <dir>/tend.yaml
//   statusCommand() tend ps --json -f <dir>/tend.yaml
//   stopService(i)  tend stop s<i> -f <dir>/tend.yaml
//   stopAll()       tend down -f <dir>/tend.yaml, then wait until the engine (and keeper) are gone
//   recoverAfterCrash()  keeper alive (only the engine was killed): nothing but wait until `tend ps` answers again
//                   (the keeper starts a new engine by itself). No keeper (a build without one, or the keeper was
//                   killed too): `tend up -d`, which ends the orphans recorded in state.json, by PID + start time,
//                   and starts fresh copies.
//
// TEND_BIN selects the build (path to dist/main.js; default /work/main/dist/main.js); it runs under the same
// node as the bench. TEND_LABEL (optional) is appended to the version, e.g. the git commit of that build.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { run, readStat, alive, waitFor, nowMs, cmdline } from '../lib/proc.mjs';

const TEND = process.env.TEND_BIN || '/work/main/dist/main.js';
const NODE = process.execPath;

const adapter = {
  name: 'tend',
  settings: {
    restart:
      'restart: always, backoff: { initial: 0ms } (the minimum tend accepts; delay before the n-th restart in ' +
      'a row = min(max, initial*2^(n-1)) minus <= 20 % jitter = 0), start_limit: { burst: 100000, interval: 1s } ' +
      '(the default 10 starts per 60 s would park a crash-looping service in "fatal")',
    process:
      "command: ['/bin/sh', <script>] (argv, no shell), each instance in its own process group; stop defaults " +
      '{ signal: SIGTERM, timeout: 10s }: the signal (+ SIGCONT) to the whole group, SIGKILL to the group after the ' +
      'timeout, the stop completes when the group is empty',
    logs:
      'logs: { file: <workdir>/logs/<name>.log, max_size: 1G } (no rotation within a run); stdout and stderr are ' +
      'pipes read by the engine (by the keeper in builds that have one), each line written (one writeSync per read chunk) as "<ISO time> <instance> <out|err> ' +
      '<text>" — tend always adds this 31-byte prefix, there is no raw format',
    daemon:
      'TEND_RUNTIME_DIR=<workdir>/run (socket, lock, state.json private to the run); `tend up -d -f tend.yaml` ' +
      'returns once every service has started; stop: `tend down` (returns once the engine has exited). Builds before ' +
      'the keeper (8aa68bf): one engine process holds the services and their pipes; recovery after its SIGKILL = ' +
      '`tend up -d` (ends the orphans found in state.json, starts fresh copies). Builds with the keeper (37a72e1+): ' +
      'keeper (parent of the services, holds pipes and log files) + engine; roots() = both; recovery = wait while ' +
      'the keeper is alive, else `tend up -d`',
  },

  async probe() {
    if (!fs.existsSync(TEND)) return { available: false, reason: `${TEND} not found (npm run build, or set TEND_BIN)` };
    const r = await run(NODE, [TEND, '--version'], { timeoutMs: 30000 });
    if (r.code !== 0) return { available: false, reason: `tend --version failed (${r.code}): ${r.stderr.trim().slice(-300)}` };
    const label = process.env.TEND_LABEL ? ` (${process.env.TEND_LABEL})` : '';
    return { available: true, version: `${r.stdout.trim()}${label}` };
  },

  create({ dir, services, env }) {
    const conf = path.join(dir, 'tend.yaml');
    const logs = path.join(dir, 'logs');
    const runtime = path.join(dir, 'run');
    // TEND_FILE must not leak in from the caller's environment: -f is always given, but be explicit.
    const tenv = { ...env, TEND_RUNTIME_DIR: runtime, NO_COLOR: '1' };
    delete tenv.TEND_FILE;
    const tend = (args, opts = {}) => run(NODE, [TEND, ...args, '-f', conf], { env: tenv, timeoutMs: 120000, ...opts });
    const out = (s) => path.join(logs, `${s.name}.log`);
    // docs/api.md: project id = first 16 hex chars of sha256(absolute config path, symlinks not resolved)
    const stateFile = path.join(runtime, createHash('sha256').update(path.resolve(conf)).digest('hex').slice(0, 16), 'state.json');
    /** The journal, snapshot + appended lines applied (a torn last line skipped), or null. Both layouts. */
    const readJournal = () => {
      let text;
      try {
        text = fs.readFileSync(stateFile, 'utf8');
      } catch {
        return null;
      }
      const [head, ...lines] = text.split('\n').filter(Boolean);
      let snap;
      try {
        snap = JSON.parse(head);
      } catch {
        return null;
      }
      if (!snap || typeof snap !== 'object') return null;
      const units = { ...(snap.units || {}) };
      for (const raw of lines) {
        let l;
        try {
          l = JSON.parse(raw);
        } catch {
          continue;
        }
        if (!l || typeof l.unit !== 'string') continue;
        const rec = 'record' in l ? l.record : l.process; // new: record (process or intent); old: process
        if (rec === null || rec === undefined) delete units[l.unit];
        else units[l.unit] = rec;
      }
      return { holder: snap.holder ?? null, engine: snap.engine ?? null, units };
    };
    const rec = (r) => (r && Number.isInteger(r.pid) && r.pid > 0 ? { pid: r.pid, starttime: r.startTime, until: r.until } : null);
    // A unit's start time may be a window [startTime, until] (later builds write no /proc read per spawn).
    const aliveAsRecorded = (u) =>
      u.until === undefined
        ? alive(u.pid, u.starttime)
        : (() => {
            const st = readStat(u.pid);
            return !!st && st.state !== 'Z' && st.state !== 'X' && st.starttime >= u.starttime && st.starttime <= u.until;
          })();
    /** Service processes the journal records (intents, which have no pid yet, skipped). */
    const journalUnits = (j) =>
      Object.values(j?.units || {})
        .map(rec)
        .filter(Boolean);
    const isKeeper = (pid) => /(^|\/)keeper\/main\.js( |$)/.test(cmdline(pid));
    const isEngine = (pid) => / engine( .*)? --keeper( |$)/.test(cmdline(pid));
    // The keeper (builds that have one), remembered once seen: it outlives engines, and the journal is written only
    // from the first spawn on (and removed by a clean `down`).
    let keeper = null;
    const remember = (pid) => {
      const st = readStat(pid);
      if (st && st.state !== 'Z' && isKeeper(pid)) keeper = { pid, starttime: st.starttime };
    };
    const liveKeeper = () => {
      if (!(keeper && alive(keeper.pid, keeper.starttime))) {
        const j = readJournal();
        const h = rec(j?.holder);
        if (h && alive(h.pid, h.starttime))
          remember(h.pid); // new layout: the holder is the keeper
        else {
          const e = rec(j?.engine); // old layout: the keeper is the engine's parent
          const ppid = e && alive(e.pid, e.starttime) ? readStat(e.pid)?.ppid : null;
          if (ppid > 1) remember(ppid);
        }
      }
      return keeper && alive(keeper.pid, keeper.starttime) ? keeper : null;
    };
    const liveEngine = () => {
      const j = readJournal();
      const e = rec(j?.engine); // old layout: the engine wrote it
      if (e && alive(e.pid, e.starttime)) return e;
      const k = liveKeeper(); // new layout (or the old one between two engines): the keeper's child `engine --keeper`
      if (!k) return null;
      let kids = [];
      try {
        kids = fs.readFileSync(`/proc/${k.pid}/task/${k.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {}
      for (const pid of kids) {
        const st = readStat(pid);
        if (st && st.state !== 'Z' && st.state !== 'X' && isEngine(pid)) return { pid, starttime: st.starttime };
      }
      return null;
    };

    const inst = {
      async writeConfig() {
        fs.mkdirSync(logs, { recursive: true });
        // JSON values are valid YAML 1.2 flow nodes: no quoting questions for paths.
        const j = JSON.stringify;
        const lines = [`log_dir: ${j(logs)}`, 'services:'];
        for (const s of services) {
          lines.push(
            `  ${s.name}: ${j({
              command: s.argv,
              restart: 'always',
              backoff: { initial: '0ms' },
              start_limit: { burst: 100000, interval: '1s' },
              logs: { file: out(s), max_size: '1G' },
            })}`,
          );
        }
        fs.writeFileSync(conf, `${lines.join('\n')}\n`);
        return conf;
      },
      async start() {
        const r = await tend(['up', '-d']);
        if (r.code !== 0) throw new Error(`tend up -d failed (${r.code}): ${(r.stderr || r.stdout).slice(-500)}`);
        return { ms: r.ms };
      },
      async roots() {
        const e = liveEngine();
        const k = liveKeeper();
        return [...(e ? [e.pid] : []), ...(k ? [k.pid] : [])];
      },
      async pids() {
        const r = await tend(['ps', '--json']);
        const m = {};
        for (const s of services) m[s.name] = null;
        if (r.code !== 0) return m; // exit 3: no engine
        for (const u of JSON.parse(r.stdout).units || []) {
          const name = u.service ?? u.unit;
          if (name in m && (u.instance ?? 0) === 0) m[name] = u.pid || null;
        }
        return m;
      },
      async pidOf(i) {
        return (await inst.pids())[services[i].name];
      },
      statusCommand() {
        return { cmd: NODE, args: [TEND, 'ps', '--json', '-f', conf], env: tenv };
      },
      async stopService(i) {
        const r = await tend(['stop', services[i].name]);
        return { ms: r.ms, code: r.code };
      },
      async stopAll() {
        const t0 = nowMs();
        let e = liveEngine();
        let k = liveKeeper();
        if (!e && k) {
          // the keeper is between two engines (e.g. right after a crash test): give it time to start the next one
          await waitFor(() => liveEngine(), { timeoutMs: 10000, everyMs: 20, what: 'an engine' }).catch(() => {});
          e = liveEngine();
        }
        if (!e && !k) {
          // Nothing runs tend (e.g. engine and keeper killed by the crash test, never recovered): services they left
          // are in the state file. Ending them is tend's own job: a new `up -d` ends them, then it is taken down.
          const orphans = journalUnits(readJournal()).filter(aliveAsRecorded);
          if (!orphans.length) return { ms: nowMs() - t0, code: 3 };
          await tend(['up', '-d']);
          e = liveEngine();
          k = liveKeeper();
        }
        const r = await tend(['down']);
        for (const p of [e, k])
          if (p) await waitFor(() => !alive(p.pid, p.starttime), { timeoutMs: 60000, everyMs: 10, what: 'tend exit' }).catch(() => {});
        return { ms: nowMs() - t0, code: r.code };
      },
      logFile(i) {
        return out(services[i]);
      },
      // rotation chain: file.N … file.1 (oldest first), then the current file
      logFiles(i) {
        const f = out(services[i]);
        const rotated = [];
        for (let k = 1; fs.existsSync(`${f}.${k}`); k++) rotated.unshift(`${f}.${k}`);
        return [...rotated, f];
      },
      async recoverAfterCrash() {
        if (liveKeeper()) {
          // tend's promise: the keeper starts a new engine within a second; the user does nothing
          const t0 = nowMs();
          const ok = await waitFor(async () => (await tend(['ps', '--json'], { timeoutMs: 5000 })).code === 0, {
            timeoutMs: 10000,
            everyMs: 50,
            what: 'tend ps',
          }).then(
            () => 0,
            () => 1,
          );
          return [{ cmd: 'nothing (keeper restarts the engine); waited for `tend ps`', code: ok, ms: Math.round(nowMs() - t0) }];
        }
        const r = await tend(['up', '-d']);
        return [{ cmd: 'tend up -d', code: r.code, ms: Math.round(r.ms) }];
      },
    };
    return inst;
  },
};
export default adapter;
