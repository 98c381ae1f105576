// The control actions: a POST with a JSON body, answered with JSON or an ErrorBody. Failures come
// back as values (never thrown) so every click can show what happened.
import type { ErrorBody } from '../api/protocol.js';
import { endSession } from './session.js';

export type ApiError = ErrorBody['error'];
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string';
}

export async function post<T>(path: string, body: object): Promise<Outcome<T>> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: { code: 'TEND_UI_UNREACHABLE', message: `tend did not answer (${message})`, hint: 'is the engine running?' },
    };
  }
  if (res.status === 401) endSession();
  let value: unknown;
  try {
    value = await res.json();
  } catch {
    value = null;
  }
  if (res.ok && value !== null) return { ok: true, value: value as T };
  if (isErrorBody(value)) return { ok: false, error: value.error };
  return { ok: false, error: { code: `HTTP_${res.status}`, message: `tend answered ${res.status} ${res.statusText}`.trim() } };
}
