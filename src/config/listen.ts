// The `api.listen` address: PORT, HOST:PORT or [IPv6]:PORT → { host, port }, whether a host is
// loopback, and the inverse formatter messages use. Pure: nothing is resolved or bound here, so
// a host name is checked for its spelling only.
import { isIPv4, isIPv6 } from 'node:net';
import { describeValue } from './phrasing.js';

export interface ListenAddress {
  /** An IP address or host name as net.Server#listen takes it: IPv6 without brackets. */
  readonly host: string;
  /** 0..65535; 0 asks the system for a free port. */
  readonly port: number;
}

export type ListenParse = { readonly ok: true; readonly address: ListenAddress } | { readonly ok: false; readonly problem: string };

/** The host when only a port is given: the control API is local unless asked otherwise. */
const defaultListenHost = '127.0.0.1';

/** What parseListen accepts in a string, loosely (also published in the JSON Schema, for editors). */
export const listenPattern = /^\s*(\d+|[^\s:[\]]+:\d+|\[[^\]\s]+\]:\d+)\s*$/;

const hostName = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * "7070" or 7070 → 127.0.0.1:7070; "0.0.0.0:80", "localhost:7070", "[::1]:7070". A problem is
 * the end of a sentence that starts "expected ...", or a complete reason for the port range.
 */
export function parseListen(input: string | number): ListenParse {
  const text = String(input).trim();
  let host = defaultListenHost;
  let portText = text;
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]*):(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (!isIPv6(host)) return { ok: false, problem: `expected an IPv6 address in the brackets, got ${JSON.stringify(host)}` };
  } else if (plain) {
    host = plain[1] ?? '';
    portText = plain[2] ?? '';
    if (!isHost(host))
      return { ok: false, problem: `expected an IP address or host name before ":${portText}", got ${JSON.stringify(host)}` };
  } else if (isIPv6WithPort(text)) {
    return { ok: false, problem: `expected an IPv6 address in brackets, as in "[::1]:7070", got ${JSON.stringify(text)}` };
  } else if (!/^\d+$/.test(text)) {
    return { ok: false, problem: `expected PORT, HOST:PORT or [IPv6]:PORT (such as 7070 or 127.0.0.1:7070), got ${describeValue(input)}` };
  }
  const port = Number(portText);
  if (!Number.isSafeInteger(port) || port > 65535) return { ok: false, problem: `expected a port from 0 to 65535, got ${portText}` };
  return { ok: true, address: { host, port } };
}

/** 127.0.0.0/8 (also IPv4-mapped), ::1 (any spelling) and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (isIPv4(host)) return host.split('.')[0] === '127';
  if (!isIPv6(host)) return false;
  const mapped = /^(0{0,4}:){2,5}ffff:([\d.]+)$/i.exec(host); // ::ffff:127.0.0.1
  return mapped !== null ? isLoopback(mapped[2] ?? '') : /^(0{0,4}:){2,7}0{0,3}1$/.test(host);
}

/** { host: "::1", port: 7070 } → "[::1]:7070"; the form a user would write in `listen`. */
export function formatListen({ host, port }: ListenAddress): string {
  return `${formatHost(host)}:${port}`;
}

/** "::" → "[::]", "0.0.0.0" → "0.0.0.0": a host as messages show it. */
export function formatHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** An IPv4 address, or a host name. Dotted digits that are no IPv4 address ("999.1.1.1") are refused. */
function isHost(host: string): boolean {
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return hostName.test(host);
}

/** "::1:7070" or "::" — an IPv6 address written without the brackets a port needs. */
function isIPv6WithPort(text: string): boolean {
  if (isIPv6(text)) return true;
  const cut = text.lastIndexOf(':');
  return cut > 0 && isIPv6(text.slice(0, cut));
}
