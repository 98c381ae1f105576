// Supplement to the peer bench's measure/logs.mjs, for tend only. logs.mjs checks each line of the log file
// against /^line (\d{9}) {84}x$/, i.e. the raw line; tend always writes "<ISO time> <instance> <out|err> "
// before it, so logs.mjs counts every tend line as malformed (and so "lost"), although its rate is right
// (it looks for the last line's number anywhere in the file's tail). This script repeats the same transfer
// (same writer script, same adapter, same clock: writer's first byte -> last line visible in the file) and
// checks the lines with tend's prefix parsed off: lost / duplicated / malformed / out of order, plus the prefix
// itself (instance 0, stream out, ISO time never going backwards).
// It runs inside the bench copy made by run.mjs (imports its lib/ and adapters/), as `node tend-logs.mjs`.
// Knobs: LOG_LINES=2000000 LOG_REPS=3 LOG_TIMEOUT_S=180 (the same as logs.mjs), RESULTS_DIR.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadAvailable } from './adapters/index.mjs';
import { knob, workdir, rmdir, makeServices, logWriterScript, benchEnv, sweep, emit, log, summary } from './lib/util.mjs';
import { waitFor, sleep, supervisorTree, readStat } from './lib/proc.mjs';
import { cpuOf } from './lib/fleet.mjs';

const L = knob('LOG_LINES', 2000000);
const REPS = knob('LOG_REPS', 3);
const TIMEOUT = knob('LOG_TIMEOUT_S', 180) * 1000;
const wallMs = () => performance.timeOrigin + performance.now();
const stampMs = (f) => Number(BigInt(fs.readFileSync(f, 'utf8').trim()) / 1000n) / 1000;
const lastLine = `line ${String(L).padStart(9, '0')} `;

function tailHas(file, needle) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    if (size === 0) return false;
    const b = Buffer.alloc(256);
    const n = fs.readSync(fd, b, 0, 256, Math.max(0, size - 256));
    return b.subarray(0, n).toString('latin1').includes(needle);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function integrity(files) {
  const seen = new Uint8Array(L + 1);
  let good = 0,
    dup = 0,
    malformed = 0,
    outOfOrder = 0,
    last = 0,
    bytes = 0,
    badPrefix = 0,
    timeBack = 0,
    lastTime = '';
  const re = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\d+) (out|err) line (\d{9}) {84}x$/;
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    bytes += fs.statSync(f).size;
    const rl = readline.createInterface({ input: fs.createReadStream(f, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const line of rl) {
      const m = re.exec(line);
      if (!m) {
        malformed++;
        continue;
      }
      if (m[2] !== '0' || m[3] !== 'out') badPrefix++;
      if (m[1] < lastTime) timeBack++;
      lastTime = m[1];
      const k = Number(m[4]);
      if (k < 1 || k > L) {
        malformed++;
        continue;
      }
      if (seen[k]) dup++;
      else {
        seen[k] = 1;
        good++;
      }
      if (k < last) outOfOrder++;
      last = k;
    }
  }
  return { unique: good, lost: L - good, dup, malformed, out_of_order: outOfOrder, bad_prefix: badPrefix, time_backwards: timeBack, bytes };
}

async function once({ adapter, version }) {
  const dir = workdir('tendlogs');
  const marks = path.join(dir, 'marks');
  fs.mkdirSync(marks);
  const services = makeServices(dir, 1, () => logWriterScript(marks, L), 'w');
  const inst = adapter.create({ dir, services, env: benchEnv() });
  const res = { peer: 'tend (prefix parsed)', version };
  try {
    await inst.writeConfig();
    await inst.start();
    await waitFor(() => fs.existsSync(path.join(marks, 'start')), { timeoutMs: 30000, everyMs: 1, what: 'writer start' });
    // each PID once: supervisorTree lists the engine twice when it is also the keeper's child (see tend-overhead.mjs)
    const procs = [...new Set(supervisorTree(await inst.roots(), []))]
      .filter((p) => !/^(sh|awk|mawk|date|sleep)$/.test(readStat(p)?.comm || ''))
      .map((pid) => ({ pid, starttime: readStat(pid)?.starttime }));
    const c0 = cpuOf(procs);
    const seenAt = await waitFor(() => (tailHas(inst.logFile(0), lastLine) ? wallMs() : null), {
      timeoutMs: TIMEOUT,
      everyMs: 5,
      what: 'last line in the log',
    }).catch((e) => {
      res.error = e.message;
      return wallMs();
    });
    const c1 = cpuOf(procs);
    const t0 = stampMs(path.join(marks, 'start'));
    const endFile = path.join(marks, 'end');
    const tEnd = await waitFor(
      () => {
        try {
          return fs.readFileSync(endFile, 'utf8').trim() ? stampMs(endFile) : null;
        } catch {
          return null;
        }
      },
      { timeoutMs: 5000, everyMs: 5, what: 'writer end stamp' },
    ).catch(() => null);
    Object.assign(res, { deliver_ms: seenAt - t0, writer_ms: tEnd && tEnd - t0, sup_cpu_s: +(c1.cpu_s - c0.cpu_s).toFixed(2) });
    await sleep(500);
  } catch (e) {
    res.error = e.message;
    log(`tend: ${e.message}`);
  } finally {
    await inst.stopAll().catch(() => {});
    await sleep(200);
    Object.assign(res, await integrity(inst.logFiles(0)), { files: inst.logFiles(0).length });
    res.leftovers = await sweep();
    rmdir(dir);
  }
  return res;
}

const [p] = await loadAvailable(['tend'], log);
if (!p) process.exit(1);
const results = [];
for (let rep = 0; rep < REPS; rep++) {
  log(`tend-logs: tend, prefix parsed (${L} lines, rep ${rep + 1}/${REPS})`);
  results.push({ rep, ...(await once(p)) });
}
const rates = summary(results.map((r) => (r.deliver_ms ? L / (r.deliver_ms / 1000) : 0)));
const med = (k) => summary(results.map((r) => r[k]).filter((v) => typeof v === 'number')).p50;
const sum = (k) => results.reduce((a, r) => a + (r[k] || 0), 0);
const rows = [
  {
    peer: 'tend (prefix parsed)',
    reps: results.length,
    'lines/s p50': Math.round(rates.p50),
    'min-max': `${Math.round(rates.min)}-${Math.round(rates.max)}`,
    'MB/s p50': +((rates.p50 * 100) / 1e6).toFixed(1),
    'file MB': +(med('bytes') / 1e6).toFixed(1),
    'deliver ms p50': Math.round(med('deliver_ms')),
    'writer ms p50': Math.round(med('writer_ms') ?? 0),
    'sup CPU s p50': med('sup_cpu_s') ?? '',
    lost: sum('lost'),
    dup: sum('dup'),
    malformed: sum('malformed'),
    'out of order': sum('out_of_order'),
    'bad prefix': sum('bad_prefix'),
    'time backwards': sum('time_backwards'),
    err: results.filter((r) => r.error).length,
  },
];
emit(
  'tend-logs',
  {
    knobs: { LOG_LINES: L, LOG_REPS: REPS, line_bytes: 100 },
    note: 'tend log lines checked with the "<ISO time> <instance> <stream> " prefix parsed off',
    summary: rows,
    results,
  },
  rows,
  Object.keys(rows[0]),
);
