// Delivery of alerts to notify targets, never blocking the engine: a command (no shell) gets the
// alert as JSON on stdin and as TEND_EVENT_* variables, and is killed at its timeout (under
// coreutils' timeout, like an exec probe); a webhook gets it as a JSON POST, retried 1 s, 2 s,
// 4 s … apart. Bounded: at most MAX_ACTIVE deliveries at once and MAX_QUEUED waiting; beyond,
// the oldest waiting is dropped (and said). A failed delivery is reported back (an event), naming
// the target without its secrets: a webhook by scheme and host only, never its path, query,
// credentials or headers.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { NotifyTarget } from '../config/schema.js';
import type { Clock } from './clock.js';
import { underTimeout } from './probe-checks.js';

const MAX_ACTIVE = 8;
const MAX_QUEUED = 200;

export interface Alert {
  readonly alert: string;
  readonly time: string;
  readonly service: string;
  readonly unit: string;
  readonly label: string;
  readonly project: string;
  readonly host: string;
  /** The event record that raised it. */
  readonly event: object;
}

/** How a target is named in events and logs: no secrets. */
export function describeTarget(target: NotifyTarget): string {
  if (target.kind === 'exec') return `exec ${target.argv[0] ?? ''}`;
  try {
    const url = new URL(target.url);
    return `webhook ${url.protocol}//${url.host}`;
  } catch {
    return 'webhook';
  }
}

export function createNotifier(clock: Clock, failed: (target: NotifyTarget, alert: Alert, reason: string) => void) {
  const queue: Array<() => Promise<void>> = [];
  let active = 0;
  let closed = false;

  function pump(): void {
    while (!closed && active < MAX_ACTIVE && queue.length > 0) {
      const job = queue.shift() as () => Promise<void>;
      active += 1;
      void job().finally(() => {
        active -= 1;
        pump();
      });
    }
  }

  async function deliver(target: NotifyTarget, alert: Alert): Promise<void> {
    const body = JSON.stringify(alert);
    const tries = target.kind === 'webhook' ? target.retries + 1 : 1;
    let reason = '';
    for (let attempt = 0; attempt < tries && !closed; attempt += 1) {
      if (attempt > 0) await new Promise<void>((resolve) => clock.setTimer(1000 * 2 ** (attempt - 1), resolve));
      reason = target.kind === 'exec' ? await runHook(target, alert, body) : await post(target, body);
      if (reason === '') return;
    }
    if (!closed) failed(target, alert, tries > 1 ? `${reason} (after ${tries} tries)` : reason);
  }

  return {
    send(targets: readonly NotifyTarget[], alert: Alert): void {
      for (const target of targets) {
        if (queue.length >= MAX_QUEUED) {
          queue.shift();
          failed(target, alert, `more than ${MAX_QUEUED} alerts waiting: the oldest was dropped`);
        }
        queue.push(() => deliver(target, alert));
      }
      pump();
    },
    close(): void {
      closed = true;
      queue.length = 0;
    },
  };
}

/** '' when delivered, else why not. */
function post(target: Extract<NotifyTarget, { kind: 'webhook' }>, body: string): Promise<string> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(reason);
    };
    const client = target.url.startsWith('https:') ? https : http;
    const request = client.request(
      target.url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, agent: false },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        response.once('end', () => done(status >= 200 && status < 300 ? '' : `HTTP ${status}`));
        response.once('close', () => done(status >= 200 && status < 300 ? '' : `HTTP ${status}`));
      },
    );
    const timer = setTimeout(() => done(`no answer within ${target.timeout} ms`), target.timeout);
    // The error's message may hold the URL: say only its code.
    request.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'request failed'));
    request.end(body);
  });
}

/** '' when the hook exited 0, else why not. */
function runHook(target: Extract<NotifyTarget, { kind: 'exec' }>, alert: Alert, body: string): Promise<string> {
  const [program = '', ...args] = underTimeout(target.argv, target.timeout);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    TEND_EVENT: body,
    TEND_EVENT_ALERT: alert.alert,
    TEND_EVENT_SERVICE: alert.service,
    TEND_EVENT_UNIT: alert.unit,
    TEND_EVENT_TIME: alert.time,
  };
  delete env.TEND_API_TOKEN; // a hook is told what happened, not handed the keys
  return new Promise((resolve) => {
    let settled = false;
    const done = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reason);
    };
    const child = spawn(program, args, { env, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      done(`no exit within ${target.timeout} ms`);
    }, target.timeout + 1000);
    child.once('error', (error) => done(`cannot run ${target.argv[0] ?? ''}: ${error.message}`));
    child.once('close', (code, signal) =>
      done(code === 0 ? '' : code === 124 ? `no exit within ${target.timeout} ms` : signal ? `killed by ${signal}` : `exit code ${code}`),
    );
    child.stdin?.on('error', () => {}); // a hook that does not read its stdin
    child.stdin?.end(body);
  });
}
