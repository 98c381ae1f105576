// Issue 10: what tend adds to health-driven work, each figure net of the service's own start time
// (the service appends it to a marks file: health-service.mjs).
// - liveness: one HTTP service that turns sick SICK_MS after it listens; its liveness probe
//   (every 50 ms after 500 ms, failure_threshold 1) fails; tend stops and replaces it (backoff 0); the
//   replacement says it is ready on its notification fd. Per cycle, from the probe-failed event
//   to the next ready event, minus the replacement's own start time. Target < 20 ms p50.
// - stack: `tend up -d` of 50 services in 5 dependency layers (each service depends on every
//   service of the layer before, condition ready; tcp readiness, default period 1 s), each one
//   listening LATE_MS after it began. From the first spawned event to the last ready event, over
//   the critical path: the sum over the layers of the slowest own start time. Target <= 1.1x.
// Own start times are the marks plus what a mark cannot see (exec, Node's boot before
// process.uptime() begins), measured from bare spawns of the same service (bareStart).
//   The whole `up -d` (CLI, keeper and engine starts included) is reported beside it.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, log, nowMs, sleep, summary, tendCli, waitFor, workdir } from './lib.mjs';

const SERVICE = path.join(path.dirname(new URL(import.meta.url).pathname), 'health-service.mjs');

const readMarks = (file) => {
  const own = new Map();
  if (!fs.existsSync(file)) return own;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [pid, ms] = line.split(' ');
    if (pid && ms) own.set(Number(pid), Number(ms));
  }
  return own;
};
const readEvents = (dir) =>
  fs
    .readFileSync(path.join(dir, 'logs', 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const at = (event) => Date.parse(event.time);

/**
 * The service's own start, as a bare spawn sees it: from spawn() to its line on fd 3, median of
 * `runs` (a child killed after each). Also the part of it the service's own marks cannot see
 * (exec and Node's boot before process.uptime() begins): `unseen_ms`, added to their figures.
 */
async function bareStart(dir, runs) {
  const { spawn } = await import('node:child_process');
  const marks = path.join(dir, 'marks', 'bare');
  const times = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = nowMs();
    const child = spawn(process.execPath, [SERVICE, 'sick', String(port), marks, '100000'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    await new Promise((resolve) => child.stdio[3].once('data', resolve));
    times.push(nowMs() - t0);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const own = summary([...readMarks(marks).values()]).p50;
  const p50 = summary(times).p50;
  return { start_ms: summary(times), unseen_ms: +(p50 - own).toFixed(2) };
}

async function liveness({ healthCycles: cycles, healthSickMs: sickMs }) {
  const dir = workdir('health-liveness');
  const port = await freePort();
  const marks = path.join(dir, 'marks', 'sick');
  fs.mkdirSync(path.dirname(marks), { recursive: true });
  const cfg = path.join(dir, 'tend.yaml');
  fs.writeFileSync(
    cfg,
    `log_dir: ${path.join(dir, 'logs')}
services:
  web:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(SERVICE)}, sick, "${port}", ${JSON.stringify(marks)}, "${sickMs}"]
    restart: always
    backoff: { initial: 0 }
    start_limit: { burst: 1000000, interval: 1s }
    readiness: { fd: 3 }
    liveness: { http: "http://127.0.0.1:${port}/", initial_delay: 500ms, period: 50ms, timeout: 1s, failure_threshold: 1 }
`,
  );
  const res = { cycles, sick_ms: sickMs, errors: [], bare: await bareStart(dir, 10) };
  try {
    const up = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 60000 });
    if (up.code !== 0) throw new Error(`up -d exited ${up.code}: ${up.stderr.slice(0, 300)}`);
    await waitFor(() => readMarks(marks).size > cycles, {
      what: `${cycles} replacements`,
      timeoutMs: cycles * (sickMs + 2000) + 30000,
      everyMs: 100,
    });
  } finally {
    await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 60000 });
  }
  const own = readMarks(marks);
  const events = readEvents(dir);
  const samples = [];
  for (let i = 0; i < events.length; i++) {
    if (events[i].kind !== 'probe-failed') continue;
    // The next life, and its own ready event (none if it died first: no sample).
    const j = events.findIndex((e, k) => k > i && e.kind === 'spawned');
    const next = events.findIndex((e, k) => k > j && e.kind === 'spawned');
    const ready = events.find((e, k) => k > j && (next < 0 || k < next) && e.kind === 'ready');
    if (j < 0 || !ready || !own.has(events[j].pid)) continue;
    samples.push(at(ready) - at(events[i]) - own.get(events[j].pid) - res.bare.unseen_ms);
  }
  res.samples = samples.length;
  res.own_start_ms = summary([...own.values()]);
  res.replacement_ms = summary(samples);
  return res;
}

async function stack({ healthLayers: layers, healthWidth: width, healthLateMs: lateMs }) {
  const dir = workdir('health-stack');
  const { unseen_ms: unseen } = await bareStart(dir, 5);
  const marks = path.join(dir, 'marks', 'late');
  fs.mkdirSync(path.dirname(marks), { recursive: true });
  const name = (layer, i) => `l${layer}s${i}`;
  let services = '';
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      const port = await freePort();
      const needs =
        layer === 0
          ? ''
          : `\n    depends_on: { ${Array.from({ length: width }, (_, j) => `${name(layer - 1, j)}: { condition: ready }`).join(', ')} }`;
      services += `  ${name(layer, i)}:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(SERVICE)}, late, "${port}", ${JSON.stringify(marks)}, "${lateMs}"]
    readiness: { tcp: "127.0.0.1:${port}" }${needs}
`;
    }
  }
  const cfg = path.join(dir, 'tend.yaml');
  fs.writeFileSync(cfg, `log_dir: ${path.join(dir, 'logs')}\nservices:\n${services}`);
  const t0 = nowMs();
  let upMs = 0;
  try {
    const up = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
    upMs = nowMs() - t0;
    if (up.code !== 0) throw new Error(`up -d exited ${up.code}: ${up.stderr.slice(0, 300)}`);
  } finally {
    await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  }
  const own = readMarks(marks);
  const events = readEvents(dir);
  const pidOf = new Map(events.filter((e) => e.kind === 'spawned').map((e) => [e.label, e.pid]));
  let critical = 0;
  for (let layer = 0; layer < layers; layer++) {
    critical += unseen + Math.max(...Array.from({ length: width }, (_, i) => own.get(pidOf.get(name(layer, i))) ?? Number.NaN));
  }
  const first = Math.min(...events.filter((e) => e.kind === 'spawned').map(at));
  const last = Math.max(...events.filter((e) => e.kind === 'ready').map(at));
  const floor = await floorStack(dir, layers, width, lateMs);
  return {
    floor_ms: floor,
    floor_ratio: +((last - first) / floor).toFixed(3),
    services: layers * width,
    layers,
    late_ms: lateMs,
    up_ms: +upMs.toFixed(0),
    stack_ms: last - first,
    critical_ms: +critical.toFixed(1),
    ratio: +((last - first) / critical).toFixed(3),
    up_ratio: +(upMs / critical).toFixed(3),
    errors: [],
  };
}

/**
 * The floor of the stack: a bare Node script starts the same services the same way — layer by
 * layer, each layer once every service of the one before accepts TCP connections (checked
 * every 5 ms) — with nothing else to do. What is left between it and the critical path is the
 * machine's (forks while the layer before still boots on two cores), not tend's.
 */
async function floorStack(dir, layers, width, lateMs) {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const marks = path.join(dir, 'marks', 'floor');
  const accepts = (port) =>
    new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  const children = [];
  const t0 = nowMs();
  try {
    for (let layer = 0; layer < layers; layer++) {
      const ports = [];
      for (let i = 0; i < width; i++) {
        const port = await freePort();
        ports.push(port);
        children.push(spawn(process.execPath, [SERVICE, 'late', String(port), marks, String(lateMs)], { stdio: 'ignore' }));
      }
      const deadline = nowMs() + 60000;
      for (const port of ports) {
        while (!(await accepts(port))) {
          if (nowMs() > deadline) throw new Error(`the floor's service on port ${port} never listened`);
          await sleep(5);
        }
      }
    }
    return +(nowMs() - t0).toFixed(0);
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

export async function health(K) {
  const res = { errors: [] };
  for (const [name, measure] of [
    ['liveness', liveness],
    ['stack', stack],
  ]) {
    try {
      res[name] = await measure(K);
      log(`health: ${name}: ${JSON.stringify(res[name])}`);
    } catch (e) {
      res.errors.push(`${name}: ${e.message}`);
    }
    await sleep(500);
  }
  return res;
}
