// Who may use the TCP listener: a request must name this server in its Host header, must not
// come from a foreign web origin, and must carry the bearer token. The unix socket needs none
// of this (its file mode is the access control). Decides only; it never writes a response.
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
}

/** Returns the refusal for a request, or null when it may proceed. */
export type TcpGuard = (headers: IncomingHttpHeaders) => TendError | null;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function createTcpGuard({ host, port, token }: TcpGuardOptions): TcpGuard {
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

  return (headers) => {
    // Host and Origin first: a page that rebinds a name to us learns nothing, not even 401.
    const hostHeader = headers.host;
    if (hostHeader === undefined || !isOurs(hostHeader)) return new TendError('TEND_API_FORBIDDEN', 'foreign Host header');
    const origin = headers.origin;
    if (origin !== undefined && !(origin.toLowerCase().startsWith('http://') && isOurs(origin.slice('http://'.length)))) {
      return new TendError('TEND_API_FORBIDDEN', 'cross-origin request');
    }
    // Browsers that omit Origin on simple GETs still say where the request comes from.
    if (headers['sec-fetch-site'] === 'cross-site') return new TendError('TEND_API_FORBIDDEN', 'cross-origin request');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    // Hashing gives equal-length buffers, so neither the token nor its length leaks by timing.
    if (!match || !timingSafeEqual(digest(match[1] ?? ''), expected)) return new TendError('TEND_API_UNAUTHORIZED');
    return null;
  };
}

function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
