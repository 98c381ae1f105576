// The control server: node:http on the project's unix socket (0600) and, when asked, on a TCP
// listener guarded by tcp-guard.ts. Routes /v1 requests to the Control it is given and turns
// TendErrors into error bodies. It never imports the engine, never prints, never exits.
import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TendError, isTendError } from '../errors.js';
import { formatFamilies } from '../lib/prometheus.js';
import { createDashboard, type Dashboard } from './dashboard.js';
import { liveFeed } from './live.js';
import { routes, type AuditEntry, type Control, type DashboardLine, type ErrorBody, type Feed } from './protocol.js';
import {
  readJsonBody,
  toActionRequest,
  toEventQuery,
  toFollowQuery,
  toLiveQuery,
  toLogQuery,
  toReloadRequest,
  toScaleRequest,
  toSignalRequest,
} from './request.js';
import { admitFollower, createFollowBudget, writeFeed, type FollowBudget } from './stream.js';
import { createTcpGuard, refuseAll, type TcpGuard } from './tcp-guard.js';

interface TcpListenOptions {
  /** Bound exactly as given; the engine passes 127.0.0.1 unless the config says otherwise. */
  readonly host: string;
  /** 0 picks a free port; `tcpAddress` reports it. */
  readonly port: number;
  readonly token: string;
}

export interface ApiServerOptions {
  readonly control: Control;
  /** Created here; its directory (0700) is the engine's, and so is removing a stale file. */
  readonly socketPath: string;
  readonly tcp?: TcpListenOptions;
  /** Called once the answer to `down` has been flushed: the engine may exit then. */
  readonly onDown?: () => void;
  /** A non-TendError thrown by the Control (a bug): the engine may log its stack. */
  readonly onInternalError?: (error: unknown) => void;
  /** What all follow streams together may owe their readers, and how many may be open (stream.ts). */
  readonly followBudget?: FollowBudget;
  /** Told of every control action once it is answered (or refused): the audit trail. */
  readonly audit?: (entry: AuditEntry) => void;
  /** The dashboard's logins and files (dashboard.ts); one is made when not given. */
  readonly dashboard?: Dashboard;
}

/**
 * Bounds of the TCP listener, which anyone who can reach the port may open connections to: a
 * cap on connections (more are closed as they arrive), and seconds — not minutes — for a
 * request to arrive. The unix socket (only tend's user can reach it) keeps answering whatever
 * the TCP side is put through.
 */
const TCP_MAX_CONNECTIONS = 64;
const HEADERS_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 5000;
const CHECK_INTERVAL_MS = 1000;

export interface ApiServer {
  /** Stops listening and ends open streams. Does not wait for in-flight answers (`down`'s is one). */
  close(): Promise<void>;
  /** The TCP listener as bound: the config's, or the one a running `tend dashboard` opened; undefined without one. */
  readonly tcpAddress: { readonly host: string; readonly port: number } | undefined;
}

/** The one code outside the catalogue, for bugs: see docs/api.md. */
const INTERNAL_CODE = 'TEND_INTERNAL';

type RouteName = keyof typeof routes;
const STREAMED = Symbol('streamed');
type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<unknown>;

export async function startApiServer(given: ApiServerOptions): Promise<ApiServer> {
  // One budget for every follow stream, whichever door it came through.
  const options = { ...given, followBudget: given.followBudget ?? createFollowBudget() };
  const { socketPath, tcp } = options;
  if (tcp !== undefined && tcp.token === '') throw new TendError('TEND_ENGINE_START_FAILED', 'the API token is empty');
  const streams = new Set<() => void>();
  const state = { closing: false, requests: new Map<string, number>() };
  const dashboard = options.dashboard ?? createDashboard();
  /** The TCP listener: the config's (for the engine's life), or one `tend dashboard` opened for as long as it runs. */
  let listener: { readonly tcp: TcpListener; readonly configured: boolean; holders: number } | undefined;

  /** `POST /v1/dashboard` (unix socket only): a login URL, on the configured listener or on one opened for this request's life. */
  const openDashboard = async (res: ServerResponse): Promise<void> => {
    if (listener === undefined) {
      const tcp = await openTcp(
        { host: '127.0.0.1', port: 0, token: randomBytes(32).toString('base64url') },
        options,
        streams,
        state,
        dashboard,
      );
      listener = { tcp, configured: false, holders: 0 };
    }
    const held = listener;
    const { host, port } = held.tcp.address;
    const url = `http://${urlHost(host)}:${port}/ui/login?code=${dashboard.mint()}`;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.write(`${JSON.stringify({ url, listener: held.configured ? 'configured' : 'session' } satisfies DashboardLine)}\n`);
    if (held.configured) {
      res.end();
      return;
    }
    // The listener lives while some `tend dashboard` holds its answer open; the last to go closes it.
    held.holders += 1;
    const release = (): void => {
      unregister();
      held.holders -= 1;
      if (held.holders > 0 || listener !== held) return;
      listener = undefined;
      dashboard.clear();
      held.tcp.close(true);
    };
    const unregister = register(streams, () => res.end());
    res.once('close', release);
  };

  const handlers = handlersFor(options, streams, 'unix', state.requests, openDashboard);
  const unix = createServer((req, res) => void serveRequest({ req, res, handlers, options, state, tcp: null }));
  await listen(
    unix,
    () => {
      // The socket is created by bind(); the umask makes it 0600 from its first instant, the
      // chmod below keeps it so on systems where bind() ignores the umask for sockets.
      const previous = process.umask(0o177);
      try {
        unix.listen(socketPath);
      } finally {
        process.umask(previous);
      }
    },
    socketPath,
  );
  const close = async (): Promise<void> => {
    if (state.closing) return;
    state.closing = true;
    for (const end of [...streams]) end();
    unix.close();
    unix.closeIdleConnections();
    listener?.tcp.close(false);
  };

  try {
    await chmod(socketPath, 0o600);
    if (tcp !== undefined) listener = { tcp: await openTcp(tcp, options, streams, state, dashboard), configured: true, holders: 0 };
    return {
      close,
      get tcpAddress() {
        return listener?.tcp.address;
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

interface TcpListener {
  readonly address: { readonly host: string; readonly port: number };
  /** Stops listening; `cut` also ends every open connection (a dashboard's streams), else only idle ones. */
  close(cut: boolean): void;
}

/** A TCP listener of the API and the dashboard, bounded and guarded (tcp-guard.ts). */
async function openTcp(
  tcp: TcpListenOptions,
  options: ApiServerOptions,
  streams: Set<() => void>,
  state: Exchange['state'],
  dashboard: Dashboard,
): Promise<TcpListener> {
  // The guard needs the bound port (port 0 is resolved by listen); until then, refuse all.
  let guard: TcpGuard = refuseAll;
  const handlers = {
    tcp: handlersFor(options, streams, 'tcp', state.requests),
    dashboard: handlersFor(options, streams, 'dashboard', state.requests),
  };
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
    (req, res) => void serveRequest({ req, res, handlers: handlers.tcp, options, state, tcp: { guard, handlers, dashboard } }),
  );
  server.maxConnections = TCP_MAX_CONNECTIONS;
  // A connection must send its request within seconds; while one is served (an action may
  // wait as long as a stop timeout) there is no deadline; between requests it may idle a little.
  server.on('connection', (socket) => {
    socket.on('timeout', () => socket.destroy());
    socket.setTimeout(HEADERS_TIMEOUT_MS);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.socket.setTimeout(0);
    res.once('finish', () => req.socket.setTimeout(IDLE_TIMEOUT_MS));
  });
  const named = `${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${tcp.port}`;
  await listen(server, () => server.listen({ host: tcp.host, port: tcp.port }), named);
  const bound = server.address() as AddressInfo;
  guard = createTcpGuard({ host: tcp.host, port: bound.port, token: tcp.token, hasSession: dashboard.hasSession });
  return {
    address: { host: bound.address, port: bound.port },
    close(cut) {
      server.close();
      if (cut) server.closeAllConnections();
      else server.closeIdleConnections();
    },
  };
}

/** A bound address as a URL names it: the wildcard as loopback, IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

const register = (streams: Set<() => void>, end: () => void): (() => void) => {
  streams.add(end);
  return () => void streams.delete(end);
};

function listen(server: Server, start: () => void, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new TendError('TEND_ENGINE_START_FAILED', `cannot listen on ${where}: ${error.code ?? error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    start();
  });
}

function handlersFor(
  { control, followBudget = createFollowBudget(), audit }: ApiServerOptions,
  streams: Set<() => void>,
  source: AuditEntry['source'],
  requests: ReadonlyMap<string, number>,
  openDashboard?: (res: ServerResponse) => Promise<void>,
): Record<RouteName, Handler> {
  const body = readJsonBody; // an empty body reads as {}, so reload and down accept one or none
  /** An action, answered, then told to the audit trail with its outcome (a refusal included). */
  const audited = async <R extends AuditEntry['result']>(
    action: AuditEntry['action'],
    request: AuditEntry['request'],
    run: () => Promise<R>,
  ): Promise<R> => {
    try {
      const result = await run();
      audit?.({ action, source, request, result });
      return result;
    } catch (error) {
      audit?.({ action, source, request, result: { error: error instanceof Error ? error.message : String(error) } });
      throw error;
    }
  };
  const follow = async <T, Q extends { readonly follow: boolean }>(res: ServerResponse, query: Q, feed: (query: Q) => Promise<Feed<T>>) => {
    if (query.follow) admitFollower(followBudget);
    writeFeed({ res, feed: await feed(query), follow: query.follow, budget: followBudget, register: (end) => register(streams, end) });
    return STREAMED;
  };
  return {
    // Plain JSON; with follow=1, NDJSON: this status, then one on every change.
    status: async (_req, url, res) => {
      const query = toFollowQuery(url.searchParams);
      return query.follow ? follow(res, query, control.statusFeed) : control.status();
    },
    usage: (_req, url, res) => follow(res, toFollowQuery(url.searchParams), control.usage),
    live: (_req, url, res) => follow(res, toLiveQuery(url.searchParams), (query) => liveFeed(control, query)),
    dashboard: async (req, _url, res) => {
      if (openDashboard === undefined) throw new TendError('TEND_API_FORBIDDEN', 'a dashboard login is given on the unix socket only');
      await body(req);
      await openDashboard(res);
      return STREAMED;
    },
    start: async (req) => {
      const request = toActionRequest(await body(req));
      return audited('start', request, () => control.start(request));
    },
    stop: async (req) => {
      const request = toActionRequest(await body(req));
      return audited('stop', request, () => control.stop(request));
    },
    restart: async (req) => {
      const request = toActionRequest(await body(req));
      return audited('restart', request, () => control.restart(request));
    },
    signal: async (req) => {
      const request = toSignalRequest(await body(req));
      return audited('signal', request, () => control.signal(request));
    },
    scale: async (req) => {
      const request = toScaleRequest(await body(req));
      return audited('scale', request, () => control.scale(request));
    },
    reload: async (req) => {
      const request = toReloadRequest(await body(req));
      return audited('reload', request, () => control.reload(request));
    },
    down: async (req) => (await body(req), audited('down', {}, () => control.down())),
    upgrade: async (req) => (await body(req), audited('upgrade', {}, () => control.upgrade())),
    logs: async (_req, url, res) => follow(res, toLogQuery(url.searchParams), control.logs),
    metrics: async (_req, _url, res) => {
      const samples = [...requests].map(([key, n]): [Record<string, string>, number] => {
        const [route = '', status = ''] = key.split(' ');
        return [{ route, status }, n];
      });
      const api = formatFamilies([
        {
          name: 'tend_api_requests_total',
          help: 'API requests since this engine started, by route and HTTP status.',
          type: 'counter',
          samples,
        },
      ]);
      const text = `${await control.metrics()}${api}`;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return STREAMED;
    },
    events: async (_req, url, res) => follow(res, toEventQuery(url.searchParams), control.events),
  };
}

const byPath = new Map(
  Object.entries(routes).map(([name, route]) => [route.path as string, { name: name as RouteName, method: route.method as string }]),
);

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly handlers: Record<RouteName, Handler>;
  readonly options: ApiServerOptions;
  readonly state: { readonly closing: boolean; readonly requests: Map<string, number> };
  /** A TCP request: its guard, the handlers by who authenticated, and the dashboard's pages. Null on the unix socket. */
  readonly tcp: {
    readonly guard: TcpGuard;
    readonly handlers: Record<'tcp' | 'dashboard', Record<RouteName, Handler>>;
    readonly dashboard: Dashboard;
  } | null;
}

async function serveRequest(exchange: Exchange): Promise<void> {
  const { req, res, options, tcp } = exchange;
  let { handlers } = exchange;
  // Counted by route (refusals included); a path that is no route counts as "other", so a scan
  // of made-up paths cannot grow the map.
  let counted = 'other';
  try {
    counted = byPath.get(parseUrl(req.url ?? '/').pathname)?.name ?? 'other';
  } catch {
    // not a path: "other"
  }
  res.once('finish', () => {
    const key = `${counted} ${res.statusCode}`;
    exchange.state.requests.set(key, (exchange.state.requests.get(key) ?? 0) + 1);
  });
  try {
    const url = parseUrl(req.url ?? '/');
    if (tcp !== null) {
      const refusal = tcp.guard.admit(req.headers);
      if (refusal !== null) return sendError(exchange, refusal, refusal.status);
      const who = url.pathname === '/ui/login' ? null : tcp.guard.authenticate(req.method ?? '', req.headers);
      if (tcp.dashboard.owns(url.pathname)) {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          return sendError(exchange, new TendError('TEND_API_NOT_FOUND', `${req.method ?? '?'} ${url.pathname}`), 405, { allow: 'GET' });
        counted = 'dashboard';
        return tcp.dashboard.serve(req, url, res, typeof who === 'string');
      }
      if (who instanceof TendError) {
        const challenge: Record<string, string> = who.code === 'TEND_API_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="tend"' } : {};
        return sendError(exchange, who, who.status, challenge);
      }
      if (who !== null) handlers = tcp.handlers[who];
    }
    const route = byPath.get(url.pathname);
    const asked = `${req.method ?? '?'} ${url.pathname}`;
    if (route === undefined) return sendError(exchange, new TendError('TEND_API_NOT_FOUND', asked), 404);
    if (req.method !== route.method) {
      const error = new TendError('TEND_API_NOT_FOUND', asked, {
        message: `${url.pathname} takes ${route.method}, not ${req.method ?? '?'}`,
      });
      return sendError(exchange, error, 405, { allow: route.method });
    }
    const result = await handlers[route.name](req, url, res);
    if (result === STREAMED) return;
    if (route.name === 'down' && options.onDown) res.once('finish', options.onDown);
    send(exchange, 200, result);
  } catch (error) {
    if (!isTendError(error)) options.onInternalError?.(error);
    sendError(exchange, error, isTendError(error) ? error.status : 500);
  }
}

function parseUrl(raw: string): URL {
  try {
    // Prefixing (rather than using a base) keeps "//host/path" a path, never an authority.
    return new URL(`http://tend${raw.startsWith('/') ? raw : `/${raw}`}`);
  } catch {
    throw new TendError('TEND_API_BAD_REQUEST', 'the request target is not a valid path');
  }
}

function sendError({ req, res, state }: Exchange, error: unknown, status: number, headers: Record<string, string> = {}): void {
  send({ req, res, state }, status, errorBody(error), headers);
}

function errorBody(error: unknown): ErrorBody {
  if (!isTendError(error)) return { error: { code: INTERNAL_CODE, message: error instanceof Error ? error.message : String(error) } };
  const { code, message, hint, details } = error;
  return { error: { code, message, ...(hint === undefined ? {} : { hint }), ...(details.length === 0 ? {} : { details }) } };
}

function send(
  { req, res, state }: Pick<Exchange, 'req' | 'res' | 'state'>,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy(); // a failure after a stream began: cutting it is the only honest signal left
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // An unread body (too large, refused early) or a closing server: do not keep the connection.
    ...(state.closing || !req.complete ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(text);
}
