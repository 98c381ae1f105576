// Who may use the TCP listener: a request must name this server in its Host header and must not
// come from a foreign web origin (admit); then it must carry the bearer token, or the cookie of a
// dashboard session (authenticate). A cookie travels by itself with every request a browser
// makes, so a cookie-borne request must also prove it comes from the dashboard's own page. The
// unix socket needs none of this (its file mode is the access control). Decides only; it never
// writes a response.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { TendError } from '../errors.js';

export interface TcpGuardOptions {
  /** The host the listener was asked to bind ("127.0.0.1", "::1", "0.0.0.0", a name). */
  readonly host: string;
  /** The port actually bound (after port 0 was resolved). */
  readonly port: number;
  readonly token: string;
  /** Whether a Cookie header carries a live dashboard session. */
  readonly hasSession?: (cookie: string | undefined) => boolean;
}

export interface TcpGuard {
  /** The refusal of a request not addressed to us or sent by a foreign page, or null. */
  admit(headers: IncomingHttpHeaders): TendError | null;
  /** Who is asking — a token holder (`tcp`) or a dashboard session (`dashboard`) — or the refusal. */
  authenticate(method: string, headers: IncomingHttpHeaders): TendError | 'tcp' | 'dashboard';
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A guard that refuses everything: the listener's port is not known yet. */
export const refuseAll: TcpGuard = {
  admit: () => new TendError('TEND_API_FORBIDDEN', 'the listener is not ready'),
  authenticate: () => new TendError('TEND_API_FORBIDDEN', 'the listener is not ready'),
};

export function createTcpGuard({ host, port, token, hasSession = () => false }: TcpGuardOptions): TcpGuard {
  const expected = digest(token);
  const names = new Set(['localhost', '127.0.0.1', '[::1]', bracketed(host).toLowerCase()]);

  /** "HOST:PORT" as a Host header (or an origin without its scheme) names this server. */
  const isOurs = (authority: string): boolean => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(authority.trim().toLowerCase());
    // No port written means HTTP's default, 80 (curl and browsers leave ":80" out).
    if (!match || Number(match[2] ?? 80) !== port) return false;
    const name = match[1] ?? '';
    // An IP literal cannot be the product of DNS rebinding (that needs a name the attacker
    // controls), so any address is accepted: it lets a non-loopback bind (allow_remote) be
    // reached by its own address. Names must be ours.
    return names.has(name) || isIP(name.replace(/^\[|\]$/g, '')) !== 0;
  };
  const sameOrigin = (origin: string): boolean => origin.toLowerCase().startsWith('http://') && isOurs(origin.slice('http://'.length));

  return {
    admit(headers) {
      // Host and Origin first: a page that rebinds a name to us learns nothing, not even 401.
      const hostHeader = headers.host;
      if (hostHeader === undefined || !isOurs(hostHeader)) return new TendError('TEND_API_FORBIDDEN', 'foreign Host header');
      const origin = headers.origin;
      if (origin !== undefined && !sameOrigin(origin)) return new TendError('TEND_API_FORBIDDEN', 'cross-origin request');
      // Browsers that omit Origin on simple GETs still say where the request comes from.
      if (headers['sec-fetch-site'] === 'cross-site') return new TendError('TEND_API_FORBIDDEN', 'cross-origin request');
      return null;
    },

    authenticate(method, headers) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
      // Hashing gives equal-length buffers, so neither the token nor its length leaks by timing.
      if (match) return timingSafeEqual(digest(match[1] ?? ''), expected) ? 'tcp' : new TendError('TEND_API_UNAUTHORIZED');
      if (!hasSession(headers.cookie)) return new TendError('TEND_API_UNAUTHORIZED');
      // SameSite=Strict keeps the cookie from other sites, but every port of 127.0.0.1 is the same
      // site: a page another user serves on this machine would have its requests carry it. Only
      // our own page (or the address bar) may use the cookie, and a change must say its origin.
      const site = headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none')
        return new TendError('TEND_API_FORBIDDEN', `a ${site} request may not use the dashboard's session`);
      if (method !== 'GET' && method !== 'HEAD' && headers.origin === undefined)
        return new TendError('TEND_API_FORBIDDEN', "a change through the dashboard's session must carry an Origin header");
      return 'dashboard';
    },
  };
}

function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
