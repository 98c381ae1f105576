// Writes a Feed as NDJSON: the snapshot, then (when following) each live item, until the client
// goes away, the engine ends the feed, or the server closes. Live logs cannot be paused, so a
// reader that falls too far behind is dropped with a last error line rather than buffered forever.
import type { ServerResponse } from 'node:http';
import type { ErrorBody, Feed } from './protocol.js';

/** Bytes of live items a reader may owe us before it is dropped. */
export const DEFAULT_MAX_STREAM_BUFFER = 8 * 1024 * 1024;

/** Not in the catalogue: it never reaches a CLI exit, it only ends a stream. See docs/api.md. */
export const SLOW_READER_CODE = 'TEND_API_SLOW_READER';

export interface StreamOptions<T> {
  readonly res: ServerResponse;
  readonly feed: Feed<T>;
  readonly follow: boolean;
  readonly maxBuffered: number;
  /** Called once a live stream is set up, with the function that ends it (server close). */
  readonly register: (end: () => void) => () => void;
}

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

export function writeFeed<T>({ res, feed, follow, maxBuffered, register }: StreamOptions<T>): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  const snapshot = feed.snapshot.map(line).join('');
  // The client may have left while the Control was reading the snapshot: subscribe to nothing.
  if (!follow || feed.follow === undefined || res.destroyed || res.socket?.destroyed === true) {
    res.end(snapshot);
    return;
  }
  if (snapshot !== '') res.write(snapshot);
  else res.flushHeaders(); // the client learns at once that the stream is open
  // The snapshot may be large by request (-n 100000); only what live items add is capped.
  const limit = res.writableLength + maxBuffered;

  let done = false;
  let unsubscribe: (() => void) | null = null;
  const finish = (last?: ErrorBody): void => {
    if (done) return;
    done = true;
    unsubscribe?.();
    unregister();
    if (!res.writableEnded && !res.destroyed) res.end(last === undefined ? undefined : line(last));
  };
  const push = (item: T): void => {
    if (done) return;
    const text = line(item);
    if (res.writableLength + text.length > limit) {
      const message = `the reader fell more than ${Math.round(maxBuffered / 1024 / 1024)} MiB behind; the stream was ended`;
      finish({ error: { code: SLOW_READER_CODE, message, hint: 'read the stream faster, or ask for fewer services' } });
      return;
    }
    res.write(text);
  };

  const unregister = register(() => finish());
  // 'close' on the response (not the request) fires when the client disconnects mid-stream.
  res.once('close', () => finish());
  const stop = feed.follow(push, () => finish());
  if (done) stop(); // the feed ended (or the reader was dropped) while subscribing
  else unsubscribe = stop;
}
