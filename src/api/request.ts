// Turns what arrives on the wire into the typed requests of protocol.ts: query strings for the
// streams, small JSON bodies for the actions. Checks shapes by hand (they are tiny) and throws
// TEND_API_BAD_REQUEST with one plain sentence; it never calls the Control.
import type { IncomingMessage } from 'node:http';
import { TendError } from '../errors.js';
import type { ActionRequest, EventQuery, LiveQuery, LogQuery, ReloadRequest, ScaleRequest, SignalRequest } from './protocol.js';

/** A control request is a few names; anything bigger is a mistake or an attack. */
const MAX_BODY_BYTES = 64 * 1024;

type Json = Readonly<Record<string, unknown>>;

function bad(sentence: string): TendError {
  return new TendError('TEND_API_BAD_REQUEST', sentence);
}

/** The body as a JSON object; an empty body counts as `{}` (reload and down need nothing). */
export async function readJsonBody(req: IncomingMessage): Promise<Json> {
  // Events, not `for await`: leaving that loop early destroys the socket, and the 400 with it.
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause(); // the server answers with `connection: close`; the rest is never read
      reject(bad(`the request body is larger than ${MAX_BODY_BYTES / 1024} KiB`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('the request body must be a JSON object');
  return value as Json;
}

export function toReloadRequest(body: Json): ReloadRequest {
  const dryRun = body.dryRun;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw bad('"dryRun" must be true or false');
  return dryRun === true ? { dryRun: true } : {};
}

function names(body: Json, key: string, required: boolean): string[] {
  const value = body[key];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string' && v !== '')) {
    throw bad(`"${key}" must be a list of service names`);
  }
  return value;
}

function text(body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw bad(`"${key}" must be a non-empty string`);
  return value;
}

/** start / stop / restart. `services` may be left out when `all` is true. */
export function toActionRequest(body: Json): ActionRequest {
  const all = body.all;
  if (all !== undefined && typeof all !== 'boolean') throw bad('"all" must be true or false');
  const services = names(body, 'services', all !== true);
  const flag = (key: 'noDeps' | 'withDependents' | 'noWait') => {
    const value = body[key];
    if (value !== undefined && typeof value !== 'boolean') throw bad(`"${key}" must be true or false`);
    return value === undefined ? {} : { [key]: value };
  };
  return { services, ...(all === undefined ? {} : { all }), ...flag('noDeps'), ...flag('withDependents'), ...flag('noWait') };
}

export function toSignalRequest(body: Json): SignalRequest {
  return { services: names(body, 'services', true), signal: text(body, 'signal') };
}

export function toScaleRequest(body: Json): ScaleRequest {
  const instances = body.instances;
  // Whether the count is sensible (whole, >= 0) is the Control's call; here only its type.
  if (typeof instances !== 'number' || !Number.isFinite(instances)) throw bad('"instances" must be a number');
  return { service: text(body, 'service'), instances };
}

/** Lines a read-back may ask for: past this the answer would be a file dump, not a tail. */
const MAX_LINES = 100_000;

function wholeNumber(params: URLSearchParams, key: string, fallback: number): number {
  const raw = params.get(key);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw bad(`"${key}" must be a whole number, got "${raw}"`);
  if (Number(raw) > MAX_LINES) throw bad(`"${key}" must be at most ${MAX_LINES}, got ${raw}`);
  return Number(raw);
}

function flag(params: URLSearchParams, key: string): boolean {
  const raw = params.get(key);
  if (raw === null || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw bad(`"${key}" must be 1 or 0, got "${raw}"`);
}

/** Epoch milliseconds ("1732435200000") or an ISO date ("2026-11-24T08:00:00Z"). */
function instant(params: URLSearchParams, key: string): number | undefined {
  const raw = params.get(key);
  if (raw === null || raw === '') return undefined;
  const at = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(at)) throw bad(`"${key}" must be epoch milliseconds or an ISO date, got "${raw}"`);
  return at;
}

export function toLogQuery(params: URLSearchParams): LogQuery {
  const since = instant(params, 'since');
  const query = {
    services: params.getAll('service').filter((s) => s !== ''),
    lines: wholeNumber(params, 'lines', 100),
    follow: flag(params, 'follow'),
  };
  return since === undefined ? query : { ...query, since };
}

export function toLiveQuery(params: URLSearchParams): LiveQuery {
  return {
    services: params.getAll('service').filter((s) => s !== ''),
    events: wholeNumber(params, 'events', 100),
    logs: wholeNumber(params, 'logs', 100),
    follow: flag(params, 'follow'),
  };
}

/** `follow=1` or not: the status and usage routes take nothing else. */
export function toFollowQuery(params: URLSearchParams): { readonly follow: boolean } {
  return { follow: flag(params, 'follow') };
}

export function toEventQuery(params: URLSearchParams): EventQuery {
  return { lines: wholeNumber(params, 'lines', 50), follow: flag(params, 'follow') };
}
