// The web dashboard's side of the TCP listener: one-time login codes (minted on the unix socket
// for `tend dashboard`) exchanged for a session cookie, and the page's three files, served with a
// strict Content-Security-Policy. The page (src/ui, built to ui/ beside this module) is a client
// of the /v1 API like any other: the session cookie stands in for the bearer token, which never
// reaches a browser. Codes and sessions live in this engine's memory only, bounded in number and
// age; an engine that restarts forgets them (run `tend dashboard` again).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/** A login link works once, within this time. */
const CODE_TTL_MS = 5 * 60_000;
/** Unused codes kept at once; minting another forgets the oldest. */
const MAX_CODES = 16;
/** A session unused this long ends. */
const SESSION_IDLE_MS = 12 * 60 * 60_000;
/** Sessions kept at once; a new login ends the least recently used. */
const MAX_SESSIONS = 32;
const COOKIE = 'tend_session';

/** Every dashboard response: nothing runs but our own script, nothing frames us, no URL leaks out. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

/** The page's files by URL path: a fixed list, so no path from a request ever reaches the disk. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/ui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface Dashboard {
  /** A new one-time login code. */
  mint(): string;
  /** Whether a Cookie header carries a live session (and marks it used). */
  hasSession(cookie: string | undefined): boolean;
  /** Whether the path is the dashboard's (the page, its files, its login), not the API's. */
  owns(pathname: string): boolean;
  /** Serves a dashboard path: the login exchange, or (for a caller already authenticated) a file. */
  serve(req: IncomingMessage, url: URL, res: ServerResponse, authenticated: boolean): void;
  /** Forget every code and session (the listener they were for is closing). */
  clear(): void;
}

const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function createDashboard(assetsDir: URL = new URL('../ui/', import.meta.url), now: () => number = Date.now): Dashboard {
  /** By hash of the code or session id: a memory dump or a slow lookup gives no usable secret. */
  const codes = new Map<string, number>();
  const sessions = new Map<string, number>();
  let files: Map<string, { body: Buffer; gzipped: Buffer; type: string }> | undefined;

  const load = () => {
    files ??= new Map(
      Object.entries(ASSETS).map(([path, { file, type }]) => {
        const body = readFileSync(new URL(file, assetsDir));
        return [path, { body, gzipped: gzipSync(body), type }];
      }),
    );
    return files;
  };

  const sessionOf = (cookie: string | undefined): string | undefined => {
    for (const part of (cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === COOKIE && value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value)) return hash(value);
    }
    return undefined;
  };

  const page = (res: ServerResponse, status: number, title: string, text: string, headers: Record<string, string> = {}): void => {
    const body = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>tend: ${title}</title><h1>${title}</h1><p>${text}</p></html>\n`;
    res.writeHead(status, {
      ...PAGE_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };

  return {
    mint() {
      const code = randomBytes(32).toString('base64url');
      for (const [key, expires] of codes) if (expires <= now()) codes.delete(key);
      if (codes.size >= MAX_CODES) codes.delete(codes.keys().next().value as string);
      codes.set(hash(code), now() + CODE_TTL_MS);
      return code;
    },

    hasSession(cookie) {
      const key = sessionOf(cookie);
      const last = key === undefined ? undefined : sessions.get(key);
      if (key === undefined || last === undefined) return false;
      if (now() - last > SESSION_IDLE_MS) {
        sessions.delete(key);
        return false;
      }
      // Re-inserted: the map's order is least recently used first.
      sessions.delete(key);
      sessions.set(key, now());
      return true;
    },

    owns: (pathname) => pathname === '/' || pathname === '/ui' || pathname === '/ui/login' || Object.hasOwn(ASSETS, pathname),

    serve(req, url, res, authenticated) {
      if (url.pathname === '/' || url.pathname === '/ui') {
        res.writeHead(303, { ...PAGE_HEADERS, location: '/ui/', 'content-length': 0 });
        res.end();
        return;
      }
      if (url.pathname === '/ui/login') {
        const code = url.searchParams.get('code') ?? '';
        const key = hash(code);
        const expires = codes.get(key);
        codes.delete(key); // once, whatever the outcome
        if (expires === undefined || expires <= now()) {
          page(
            res,
            401,
            'This login link is used up',
            'Each link from <code>tend dashboard</code> works once, for 5 minutes. Run <code>tend dashboard</code> for a new one.',
          );
          return;
        }
        const session = randomBytes(32).toString('base64url');
        if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
        sessions.set(hash(session), now());
        // A session cookie (no Max-Age): it ends with the browser; HttpOnly keeps it from scripts,
        // SameSite=Strict from other sites. The redirect drops the code from the address bar.
        res.writeHead(303, {
          ...PAGE_HEADERS,
          location: '/ui/',
          'set-cookie': `${COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict`,
          'content-length': 0,
        });
        res.end();
        return;
      }
      if (!authenticated) {
        page(res, 401, 'Not logged in', 'Open the link <code>tend dashboard</code> prints: it logs this browser in.');
        return;
      }
      const file = load().get(url.pathname);
      if (file === undefined) return page(res, 404, 'Not found', 'There is no such page.');
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? file.gzipped : file.body;
      res.writeHead(200, {
        ...PAGE_HEADERS,
        'content-type': file.type,
        'content-length': body.length,
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },

    clear() {
      codes.clear();
      sessions.clear();
    },
  };
}
