// What the CLI (or any script) uses to talk to an engine: one HTTP request per call over the
// unix socket (or TCP with a token), answers typed by protocol.ts, error bodies rebuilt into the
// same TendError the engine threw. On the `tend ps` hot path: node:http only, nothing heavy.
import { request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { TendError, isErrorCode } from '../errors.js';
import { routes } from './protocol.js';
import type { Control, DashboardLine, ErrorBody, EventQuery, EventRecord, LogQuery, LogRecord } from './protocol.js';

export type ClientOptions =
  | { readonly socketPath: string /** Named in TEND_NO_ENGINE instead of the socket. */; readonly configFile?: string }
  | { readonly host: string; readonly port: number; readonly token: string };

/** The Control, as seen from outside. Streams resolve when the server ends them or `signal` aborts. */
export interface Client extends Omit<Control, 'logs' | 'events' | 'metrics' | 'statusFeed' | 'usage'> {
  logs(query: LogQuery, onRecord: (record: LogRecord) => void, signal?: AbortSignal): Promise<void>;
  events(query: EventQuery, onRecord: (record: EventRecord) => void, signal?: AbortSignal): Promise<void>;
  /** A dashboard login (unix socket only): its line, then the answer stays open while a listener opened for it lives. */
  dashboard(onLine: (line: DashboardLine) => void, signal?: AbortSignal): Promise<void>;
}

/** An error body whose code is not in this client's catalogue (TEND_INTERNAL, a newer engine's code). */
export interface ForeignCodeError extends Error {
  readonly code: string;
}

export function createClient(options: ClientOptions): Client {
  const target: RequestOptions =
    'socketPath' in options
      ? { socketPath: options.socketPath }
      : { host: options.host, port: options.port, headers: { authorization: `Bearer ${options.token}` } };
  const where = 'socketPath' in options ? options.socketPath : `${options.host}:${options.port}`;
  const named = 'socketPath' in options ? (options.configFile ?? options.socketPath) : where;

  /** Sends one request; resolves with the response head, or rejects with a connection error. */
  const open = (method: string, path: string, body?: unknown): { req: ClientRequest; response: Promise<IncomingMessage> } => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(target.headers as Record<string, string> | undefined),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    };
    // agent: false — one CLI call is one request; a kept-alive socket would only delay exit.
    const req = request({ ...target, method, path, headers, agent: false });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.on('error', (error: NodeJS.ErrnoException) => reject(connectionError(error, where, named)));
    });
    req.end(payload);
    return { req, response };
  };

  const call = async <T>(route: { method: string; path: string }, body?: unknown): Promise<T> => {
    const res = await open(route.method, route.path, route.method === 'POST' ? (body ?? {}) : undefined).response;
    const text = await readAll(res);
    if (res.statusCode !== 200) throw errorFromAnswer(res.statusCode ?? 0, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TendError('TEND_ENGINE_UNREACHABLE', `the answer to ${route.path} is not JSON`);
    }
  };

  const stream = <T>(path: string, onRecord: (record: T) => void, signal?: AbortSignal, method = 'GET'): Promise<void> => {
    if (signal?.aborted) return Promise.resolve();
    const { req, response } = open(method, path, method === 'POST' ? {} : undefined);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        req.destroy(); // a no-op after a clean end; stops the stream on abort or error
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => settle();
      signal?.addEventListener('abort', onAbort, { once: true });
      response.then(
        (res) => readLines(res, onRecord, settle),
        (error: unknown) => settle(error),
      );
    });
  };

  return {
    status: () => call(routes.status),
    start: (body) => call(routes.start, body),
    stop: (body) => call(routes.stop, body),
    restart: (body) => call(routes.restart, body),
    signal: (body) => call(routes.signal, body),
    scale: (body) => call(routes.scale, body),
    reload: (body) => call(routes.reload, body ?? {}),
    down: () => call(routes.down),
    upgrade: () => call(routes.upgrade),
    logs: (query, onRecord, signal) => stream(`${routes.logs.path}?${logParams(query)}`, onRecord, signal),
    events: (query, onRecord, signal) => stream(`${routes.events.path}?${eventParams(query)}`, onRecord, signal),
    dashboard: (onLine, signal) => stream(routes.dashboard.path, onLine, signal, 'POST'),
  };
}

function logParams(query: LogQuery): string {
  const params = new URLSearchParams();
  for (const service of query.services) params.append('service', service);
  params.set('lines', String(query.lines));
  if (query.since !== undefined) params.set('since', String(Math.floor(query.since)));
  params.set('follow', query.follow ? '1' : '0');
  return params.toString();
}

function eventParams(query: EventQuery): string {
  return new URLSearchParams({ lines: String(query.lines), follow: query.follow ? '1' : '0' }).toString();
}

/** NDJSON: each line a record, except a last `{"error":…}` line (no `time`) the server ends with. */
function readLines<T>(res: IncomingMessage, onRecord: (record: T) => void, settle: (error?: unknown) => void): void {
  if (res.statusCode !== 200) {
    readAll(res).then((text) => settle(errorFromAnswer(res.statusCode ?? 0, text)), settle);
    return;
  }
  let pending = '';
  let ok = true;
  const take = (line: string): void => {
    if (!ok || line.trim() === '') return;
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if ('error' in value && !('time' in value))
        throw errorFromBody(value) ?? new TendError('TEND_ENGINE_UNREACHABLE', 'the stream ended with an unreadable error');
      onRecord(value as T);
    } catch (error) {
      ok = false;
      settle(error instanceof SyntaxError ? new TendError('TEND_ENGINE_UNREACHABLE', 'the engine sent a line that is not JSON') : error);
    }
  };
  res.setEncoding('utf8');
  res.on('error', () => {}); // a cut connection: 'close' below reports it
  res.on('data', (chunk: string) => {
    pending += chunk;
    let cut = pending.indexOf('\n');
    while (cut !== -1) {
      take(pending.slice(0, cut));
      pending = pending.slice(cut + 1);
      cut = pending.indexOf('\n');
    }
  });
  res.once('end', () => {
    take(pending);
    settle();
  });
  // Closed without an end: the engine died or the connection was cut (an abort settled first).
  res.once('close', () =>
    settle(res.complete ? undefined : new TendError('TEND_ENGINE_UNREACHABLE', 'the connection was cut before the stream ended')),
  );
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.once('end', () => resolve(text));
    res.on('error', () => reject(new TendError('TEND_ENGINE_UNREACHABLE', 'the connection was cut before the answer was complete')));
  });
}

/** A non-2xx answer: its error body rebuilt, or, when there is none, what HTTP said. */
function errorFromAnswer(status: number, text: string): Error {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return errorFromBody(body) ?? new TendError('TEND_ENGINE_UNREACHABLE', `unexpected answer (HTTP ${status})`);
}

function errorFromBody(body: unknown): Error | null {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return null;
  const { code, message, hint, details } = error;
  if (isErrorCode(code)) return new TendError(code, '', { message, ...(hint === undefined ? {} : { hint }), details: details ?? [] });
  const foreign: ForeignCodeError = Object.assign(new Error(message), { code });
  return foreign;
}

function connectionError(error: NodeJS.ErrnoException, where: string, named: string): TendError {
  // No socket file, or a socket nobody listens on (an engine that died): nothing is running.
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return new TendError('TEND_NO_ENGINE', named, { cause: error });
  if (error.code === 'EACCES') return new TendError('TEND_ENGINE_UNREACHABLE', `permission denied on ${where}`, { cause: error });
  return new TendError('TEND_ENGINE_UNREACHABLE', `${where}: ${error.code ?? error.message}`, { cause: error });
}
