// The NDJSON reader behind the page's live stream (live.ts: status, usage, events, logs): fetch, read the
// body as it comes, one JSON value per line. The engine ends a stream when the reader fell behind
// (a TEND_API_SLOW_READER line), when it restarts, or on an upgrade: the reader reconnects with a
// backoff and the view starts again from the snapshot the new stream sends first.
import { endSession, onSessionEnd } from './session.js';

/** A longer partial line is dropped, not buffered: no line the engine sends is that long. Counted in UTF-16 code units, ~1 MiB of ASCII. */
const MAX_LINE = 1024 * 1024;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 10_000;

export type StreamState = 'connecting' | 'live' | 'retrying';

export interface FollowOptions<T> {
  /** Path and query, e.g. "/v1/live?follow=1". */
  readonly path: string;
  /** A (re)connection answered: its snapshot comes next, so what the last one sent should go. */
  readonly onOpen: () => void;
  readonly onItem: (item: T) => void;
  readonly onState?: (state: StreamState) => void;
}

/** A stream line that is an error body ends the stream; an event's `error` field is a string, so only an object counts. */
function endsStream(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return typeof error === 'object' && error !== null && 'code' in error;
}

/** Calls onLine for each complete line of the body until it ends; throws on a network error or an abort. */
async function readLines(body: ReadableStream<Uint8Array>, onLine: (line: string) => boolean): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let partial = '';
  // Inside a line that grew past MAX_LINE: skip up to its end.
  let skipping = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const text = decoder.decode(value, { stream: true });
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = partial + text.slice(start, end);
      partial = '';
      start = end + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      if (line.trim() !== '' && !onLine(line)) {
        await reader.cancel();
        return;
      }
    }
    if (skipping) continue;
    partial += text.slice(start);
    if (partial.length > MAX_LINE) {
      partial = '';
      skipping = true;
    }
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Follows an NDJSON stream until the returned function is called (or the session ends),
 * reconnecting after every end: 1 s, doubling to 10 s while connections fail, back to 1 s once
 * one delivered something.
 */
export function follow<T>(options: FollowOptions<T>): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const stopOnSessionEnd = onSessionEnd(() => controller.abort());
  void (async () => {
    let delay = FIRST_RETRY_MS;
    while (!signal.aborted) {
      let delivered = false;
      try {
        options.onState?.('connecting');
        const res = await fetch(options.path, { signal, headers: { accept: 'application/x-ndjson' } });
        if (res.status === 401) return endSession();
        if (res.ok && res.body !== null) {
          options.onState?.('live');
          options.onOpen();
          await readLines(res.body, (line) => {
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              return true; // a torn line (the engine died mid-write): the next one is whole
            }
            if (endsStream(value)) return false; // a slow reader, or the engine ends the feed: reconnect
            delivered = true;
            options.onItem(value as T);
            return true;
          });
        } else {
          await res.body?.cancel();
        }
      } catch {
        // A network error or the abort: the loop condition tells which.
      }
      if (signal.aborted) break;
      delay = delivered ? FIRST_RETRY_MS : delay;
      options.onState?.('retrying');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, LAST_RETRY_MS);
    }
    stopOnSessionEnd();
  })();
  return () => {
    controller.abort();
    stopOnSessionEnd();
  };
}
