// The control server: node:http on the project's unix socket (0600) and, when asked, on a TCP
// listener guarded by tcp-guard.ts. Routes /v1 requests to the Control it is given and turns
// TendErrors into error bodies. It never imports the engine, never prints, never exits.
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TendError, isTendError } from '../errors.js';
import { formatFamilies } from '../lib/prometheus.js';
import { routes, type AuditEntry, type Control, type ErrorBody } from './protocol.js';
import { readJsonBody, toActionRequest, toEventQuery, toLogQuery, toReloadRequest, toScaleRequest, toSignalRequest } from './request.js';
import { admitFollower, createFollowBudget, writeFeed, type FollowBudget } from './stream.js';
import { createTcpGuard, type TcpGuard } from './tcp-guard.js';

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
  readonly tcpAddress?: { readonly host: string; readonly port: number };
}

/** The one code outside the catalogue, for bugs: see docs/api.md. */
const INTERNAL_CODE = 'TEND_INTERNAL';

type RouteName = keyof typeof routes;
const STREAMED = Symbol('streamed');
type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<unknown>;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { socketPath, tcp } = options;
  if (tcp !== undefined && tcp.token === '') throw new TendError('TEND_ENGINE_START_FAILED', 'the API token is empty');
  const streams = new Set<() => void>();
  const state = { closing: false, requests: new Map<string, number>() };
  const handlers = handlersFor(options, streams, 'unix', state.requests);

  const unix = createServer((req, res) => void serveRequest({ req, res, handlers, options, state, guard: null }));
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
  const servers: Server[] = [unix];
  const close = async (): Promise<void> => {
    if (state.closing) return;
    state.closing = true;
    for (const end of [...streams]) end();
    for (const server of servers) {
      server.close();
      server.closeIdleConnections();
    }
  };

  try {
    await chmod(socketPath, 0o600);
    if (tcp === undefined) return { close };
    // The guard needs the bound port (port 0 is resolved by listen); until then, refuse all.
    let guard: TcpGuard = () => new TendError('TEND_API_FORBIDDEN', 'the listener is not ready');
    const tcpHandlers = handlersFor(options, streams, 'tcp', state.requests);
    const server = createServer(
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        keepAliveTimeout: HEADERS_TIMEOUT_MS,
        connectionsCheckingInterval: CHECK_INTERVAL_MS,
      },
      (req, res) => void serveRequest({ req, res, handlers: tcpHandlers, options, state, guard }),
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
    servers.push(server);
    const named = `${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${tcp.port}`;
    await listen(server, () => server.listen({ host: tcp.host, port: tcp.port }), named);
    const bound = server.address() as AddressInfo;
    guard = createTcpGuard({ host: tcp.host, port: bound.port, token: tcp.token });
    return { close, tcpAddress: { host: bound.address, port: bound.port } };
  } catch (error) {
    await close();
    throw error;
  }
}

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
  const register = (end: () => void) => {
    streams.add(end);
    return () => void streams.delete(end);
  };
  return {
    status: () => control.status(),
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
    logs: async (_req, url, res) => {
      const query = toLogQuery(url.searchParams);
      if (query.follow) admitFollower(followBudget);
      writeFeed({ res, feed: await control.logs(query), follow: query.follow, budget: followBudget, register });
      return STREAMED;
    },
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
    events: async (_req, url, res) => {
      const query = toEventQuery(url.searchParams);
      if (query.follow) admitFollower(followBudget);
      writeFeed({ res, feed: await control.events(query), follow: query.follow, budget: followBudget, register });
      return STREAMED;
    },
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
  readonly guard: TcpGuard | null;
}

async function serveRequest(exchange: Exchange): Promise<void> {
  const { req, res, handlers, options, guard } = exchange;
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
    const refusal = guard?.(req.headers) ?? null;
    if (refusal !== null) {
      const challenge: Record<string, string> =
        refusal.code === 'TEND_API_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="tend"' } : {};
      return sendError(exchange, refusal, refusal.status, challenge);
    }
    const url = parseUrl(req.url ?? '/');
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
