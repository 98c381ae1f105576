// One check of a probe: a TCP connect, an HTTP GET, or a command, each bounded by the probe's
// timeout, answering ok and a line of output (for `ps`, events and the start's answer). A check
// never blocks the engine, and no check outlives its timeout: a command runs under coreutils'
// `timeout` — its own process group, killed at the deadline even if the engine itself is killed
// meanwhile — and the engine kills that group too when its own clock says so.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Probe, ServiceConfig } from '../config/schema.js';
import { parseLogLine } from '../logs/file-sink.js';

export interface CheckResult {
  readonly ok: boolean;
  /** What it said or why it failed, one line, at most OUTPUT_LIMIT characters. */
  readonly output: string;
}

const OUTPUT_LIMIT = 512;
/**
 * HTTP checks keep their connections between checks (one per target, as a load balancer's health
 * check does): a new connection and its teardown every second cost most of a check's CPU. A
 * server that restarts closes them; the next check connects anew.
 */
const keepAlive = new http.Agent({ keepAlive: true, maxFreeSockets: 256, timeout: 60_000 });
const TIMEOUT_BINARIES = ['/usr/bin/timeout', '/bin/timeout'];
let timeoutBinary: string | null | undefined;

const oneLine = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > OUTPUT_LIMIT ? `${line.slice(0, OUTPUT_LIMIT - 1)}…` : line;
};

/** `env`: the service's environment, built only for an exec check. */
export function runCheck(probe: Probe, service: ServiceConfig, env: () => Readonly<Record<string, string>>): Promise<CheckResult> {
  switch (probe.kind) {
    case 'tcp':
      return tcpCheck(probe.host, probe.port, probe.timeout);
    case 'http':
      return httpCheck(probe.url, probe.status, probe.headers, probe.timeout);
    case 'exec':
      return execCheck(probe.argv, probe.timeout, service, env());
    case 'log':
    case 'fd':
      throw new Error(`a ${probe.kind} check is the engine's own: see probes.ts`);
  }
}

/** Bytes of new output a log check reads at most per check. */
const LOG_SCAN_LIMIT = 1024 * 1024;

/**
 * A log check of one life of one instance: the lines its log file got since `from` (the file's
 * size when the life was spawned: what came before is an earlier life's), read on from where the
 * last check stopped, for a line of this instance that matches — and once one has, every later
 * check of this life passes with it (and, for a life an earlier engine
 * saw start, written `since` it began). A file rotated meanwhile is read from its start. Only the
 * first 4 KiB of a line are matched.
 */
export function createLogScan(file: string, instance: number, pattern: string, from: number, since: string | null = null) {
  const regex = new RegExp(pattern);
  let offset = from;
  let partial = '';
  /** Once said, said for this life: a server that logged "listening" stays ready by its log. */
  let matched: CheckResult | null = null;
  return (): CheckResult => {
    if (matched) return matched;
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      return { ok: false, output: `${file}: ${(error as Error).message}` };
    }
    try {
      const size = fstatSync(fd).size;
      if (size < offset) {
        offset = 0; // rotated: the new file holds the newest lines
        partial = '';
      }
      const length = Math.min(size - offset, LOG_SCAN_LIMIT);
      const buffer = Buffer.alloc(length);
      const read = length > 0 ? readSync(fd, buffer, 0, length, offset) : 0;
      offset += read;
      const lines = (partial + buffer.toString('utf8', 0, read)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = parseLogLine(line);
        if (parsed?.instance !== instance || (since !== null && parsed.time < since)) continue;
        if (regex.test(parsed.text.slice(0, 4096))) {
          matched = { ok: true, output: oneLine(parsed.text) };
          return matched;
        }
      }
      return { ok: false, output: `no line matching /${pattern}/ yet` };
    } finally {
      closeSync(fd);
    }
  };
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: CheckResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, output: `no connection to ${host}:${port} within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, output: `connected to ${host}:${port}` }));
    socket.once('error', (error) => done({ ok: false, output: `${host}:${port}: ${error.message}` }));
  });
}

function httpCheck(
  url: string,
  [low, high]: readonly [number, number],
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<CheckResult> {
  return new Promise((resolve) => {
    let settled = false;
    // A whole answer leaves its connection to the agent for the next check; anything else ends it.
    const done = (result: CheckResult, whole = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!whole) request.destroy();
      resolve(result);
    };
    const request = http.get(url, { headers: { ...headers }, agent: keepAlive }, (response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > OUTPUT_LIMIT) response.destroy(); // enough to say what it answered
      });
      const answer = (whole: boolean) => done({ ok: status >= low && status <= high, output: oneLine(`HTTP ${status} ${body}`) }, whole);
      response.once('end', () => answer(true));
      response.once('close', () => answer(false));
    });
    const timer = setTimeout(() => done({ ok: false, output: `no answer from ${url} within ${timeoutMs} ms` }), timeoutMs);
    request.once('error', (error) => done({ ok: false, output: `${url}: ${error.message}` }));
  });
}

/**
 * argv run under coreutils' `timeout`, which enforces the deadline on its own (on the command's
 * whole group, and whatever becomes of tend); without it, argv alone: only tend's timer does.
 * Exit 124 then means "timed out".
 */
export function underTimeout(argv: readonly string[], timeoutMs: number): string[] {
  timeoutBinary ??= TIMEOUT_BINARIES.find((file) => isExecutable(file)) ?? null;
  const seconds = Math.max(0.001, timeoutMs / 1000).toFixed(3);
  return timeoutBinary === null ? [...argv] : [timeoutBinary, '--kill-after=1', `${seconds}s`, ...argv];
}

function execCheck(
  argv: readonly string[],
  timeoutMs: number,
  service: ServiceConfig,
  env: Readonly<Record<string, string>>,
): Promise<CheckResult> {
  const full = underTimeout(argv, timeoutMs);
  const [program = '', ...args] = full;
  const ids = service.runAs === null ? {} : { uid: service.runAs.uid, gid: service.runAs.gid };
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const done = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn(program, args, { cwd: service.cwd, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...ids });
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    const timer = setTimeout(() => {
      kill();
      done({ ok: false, output: oneLine(`timed out after ${timeoutMs} ms ${output}`) });
    }, timeoutMs + 1000);
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT * 2) output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (error) => done({ ok: false, output: `cannot run ${argv[0] ?? ''}: ${error.message}` }));
    child.once('close', (code, signal) => {
      kill(); // whatever it left in its group goes with it
      if (timeoutBinary !== null && code === 124) return done({ ok: false, output: oneLine(`timed out after ${timeoutMs} ms ${output}`) });
      done({ ok: code === 0, output: oneLine(output === '' ? (signal ? `killed by ${signal}` : `exit code ${code}`) : output) });
    });
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
