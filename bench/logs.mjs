// 2. Log throughput and integrity. One writer prints `lines` numbered 100-byte lines
// ("line 000000001" + 84 spaces + "x") as fast as mawk can (a Node writer that respects back-pressure
// when no awk is installed), stamping `date +%s%N` before its first byte and after its last, then
// `exec sleep` so it is never restarted. MB/s = writer bytes / (first byte -> last line visible at the
// end of the log file; tail polled every 5 ms). Then the supervisor is stopped and every line of the
// file is parsed: lost / duplicated / out-of-order / malformed (tend's lines must also carry its
// "<ISO time> <instance> out " prefix). CPU = the supervisor process's utime+stime from the writer's
// start stamp to the last line landing.
// Paths, each `reps` times (interleaved): floor = writer > file; node-floor (context) = the writer under
// floor-supervisor.mjs (pipe -> Node -> file, no timestamps); tend (its stdout, which echoes every line
// with a name prefix, goes to /dev/null: what a detached daemon would do).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import {
  workdir,
  script,
  tendConfig,
  floorConfig,
  launchTend,
  launchFloor,
  stopProc,
  benchEnv,
  waitFor,
  cpuS,
  wallMs,
  sleep,
  log,
} from './lib.mjs';

const LINE_BYTES = 100;

function awkPath() {
  for (const name of ['mawk', 'awk']) {
    try {
      return execFileSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {}
  }
  return null;
}
export const AWK = awkPath();

function writerService(dir, lines, thenSleep) {
  const m = (f) => `'${path.join(dir, 'marks', f)}'`;
  const gen = AWK
    ? `${AWK} -v n=${lines} 'BEGIN { p = sprintf("%83s", ""); for (i = 1; i <= n; i++) printf "line %09d %sx\\n", i, p }'`
    : `${process.execPath} -e 'const n=${lines},p=" ".repeat(83);let i=1;const go=()=>{while(i<=n){const c=[];for(let j=0;j<1000&&i<=n;j++,i++)c.push("line "+String(i).padStart(9,"0")+" "+p+"x\\n");if(!process.stdout.write(c.join("")))return process.stdout.once("drain",go)}};go()'`;
  return script(dir, 'w0', `date +%s%N > ${m('start')}\n${gen}\ndate +%s%N > ${m('end')}\n${thenSleep ? 'exec sleep 100000\n' : ''}`);
}
const stampMs = (f) => {
  try {
    const s = fs.readFileSync(f, 'utf8').trim();
    return s ? Number(BigInt(s) / 1000n) / 1000 : null;
  } catch {
    return null;
  }
};

function tailHas(file, needle) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const b = Buffer.alloc(256);
    const n = fs.readSync(fd, b, 0, 256, Math.max(0, size - 256));
    return b.subarray(0, n).toString('latin1').includes(needle);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Every number 1..lines exactly once, in order? `prefixed`: tend's "<ISO time> <instance> out " first. */
function integrity(file, lines, prefixed) {
  const re = prefixed ? /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 0 out line (\d{9}) {84}x$/ : /^line (\d{9}) {84}x$/;
  const seen = new Uint8Array(lines + 1);
  const r = { unique: 0, lost: 0, dup: 0, out_of_order: 0, malformed: 0, file_bytes: 0 };
  let text = '';
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {}
  r.file_bytes = text.length;
  let last = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = re.exec(line);
    const k = m ? Number(m[1]) : 0;
    if (k < 1 || k > lines) {
      r.malformed++;
      continue;
    }
    if (seen[k]) r.dup++;
    else {
      seen[k] = 1;
      r.unique++;
    }
    if (k < last) r.out_of_order++;
    last = k;
  }
  r.lost = lines - r.unique;
  return r;
}

async function viaFile(dir, lines, timeoutMs) {
  const w = writerService(dir, lines, false);
  const out = path.join(dir, 'out.log');
  const at = await new Promise((resolve, reject) => {
    const p = spawn('/bin/sh', ['-c', `exec /bin/sh '${w.argv[1]}' > '${out}'`], { stdio: 'ignore', env: benchEnv() });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error('floor writer timed out'));
    }, timeoutMs);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve(wallMs());
    });
  });
  return { seenAt: at, file: out, cpu_s: null };
}

async function viaSupervisor(dir, lines, timeoutMs, kind) {
  const svc = writerService(dir, lines, true);
  const proc =
    kind === 'tend'
      ? launchTend(dir, tendConfig(dir, [svc], { restart: 'never', logs: { max_size: '1G' } }), { stdout: '/dev/null' })
      : launchFloor(dir, floorConfig(dir, [svc]), { stdout: '/dev/null' });
  const file = path.join(dir, 'logs', 'w0.log');
  const needle = `line ${String(lines).padStart(9, '0')} `;
  try {
    await waitFor(() => fs.existsSync(path.join(dir, 'marks', 'start')), { timeoutMs: 15000, everyMs: 1, what: 'writer start' });
    const c0 = cpuS(proc);
    const seenAt = await waitFor(() => (tailHas(file, needle) ? wallMs() : null), { timeoutMs, everyMs: 5, what: 'last line in the log' });
    const c1 = cpuS(proc);
    return { seenAt, file, cpu_s: c0 === null || c1 === null ? null : +(c1 - c0).toFixed(2) };
  } finally {
    await sleep(200); // anything written after the last line (a duplicate) would land now
    const stop = await stopProc(proc);
    // biome-ignore lint/correctness/noUnsafeFinally: a supervisor that cannot be stopped spoils every later measure
    if (stop.error) throw new Error(`${kind} stop: ${stop.error}`);
  }
}

export async function logs({ lines, reps, timeoutMs = 120000 }) {
  const runs = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of ['floor', 'node-floor', 'tend']) {
      const dir = workdir(`logs-${kind}-${rep}`);
      const r = { kind, rep };
      try {
        const got = kind === 'floor' ? await viaFile(dir, lines, timeoutMs) : await viaSupervisor(dir, lines, timeoutMs, kind);
        const t0 = stampMs(path.join(dir, 'marks', 'start'));
        const tEnd = await waitFor(() => stampMs(path.join(dir, 'marks', 'end')), { timeoutMs: 5000, what: 'writer end stamp' }).catch(
          () => null,
        );
        r.deliver_ms = +(got.seenAt - t0).toFixed(1);
        r.writer_ms = tEnd && +(tEnd - t0).toFixed(1);
        r.mb_s = +((lines * LINE_BYTES) / 1e6 / (r.deliver_ms / 1000)).toFixed(1);
        r.cpu_s = got.cpu_s;
        Object.assign(r, integrity(got.file, lines, kind === 'tend'));
      } catch (e) {
        r.error = e.message;
        log(`logs ${kind}: ${e.message}`);
      }
      if (process.env.KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true }); // ~100-130 MB each
      log(
        `logs ${kind} rep ${rep + 1}/${reps}: ${r.mb_s ?? '?'} MB/s, lost ${r.lost ?? '?'}, dup ${r.dup ?? '?'}${r.cpu_s != null ? `, CPU ${r.cpu_s} s` : ''}`,
      );
      runs.push(r);
    }
  }
  return { lines, line_bytes: LINE_BYTES, reps, writer: AWK ?? 'node (no awk found)', runs };
}
