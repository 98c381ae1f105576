// Writes a Feed as NDJSON: the snapshot, then (when following) each live item, until the client
// goes away, the engine ends the feed, or the server closes. Live logs cannot be paused, so a
// reader that falls too far behind is dropped with a last error line rather than buffered
// forever — and all followers share ONE memory budget (FollowBudget): 100 readers that never
// read cost what one does, not 100 times as much. Live items are batched: one write per turn of
// the event loop, whatever the line rate.
import type { ServerResponse } from 'node:http';
import { TendError } from '../errors.js';
import type { ErrorBody, Feed } from './protocol.js';

/** Bytes of live items all followers together may owe their readers. */
export const DEFAULT_FOLLOW_BUDGET = 32 * 1024 * 1024;
/** Follow streams open at once; one more is refused (TEND_API_BUSY). */
export const DEFAULT_MAX_FOLLOWERS = 128;

/** Not in the catalogue: it never reaches a CLI exit, it only ends a stream. See docs/api.md. */
export const SLOW_READER_CODE = 'TEND_API_SLOW_READER';

/** The followers of one server and what they owe together. */
export interface FollowBudget {
  readonly maxBytes: number;
  readonly maxFollowers: number;
  readonly followers: Set<ServerResponse>;
}

export function createFollowBudget(maxBytes = DEFAULT_FOLLOW_BUDGET, maxFollowers = DEFAULT_MAX_FOLLOWERS): FollowBudget {
  return { maxBytes, maxFollowers, followers: new Set() };
}

/** Each follower's share: the budget split evenly among those following now. */
const shareOf = (budget: FollowBudget): number => Math.floor(budget.maxBytes / Math.max(1, budget.followers.size));

export interface StreamOptions<T> {
  readonly res: ServerResponse;
  readonly feed: Feed<T>;
  readonly follow: boolean;
  readonly budget: FollowBudget;
  /** Called once a live stream is set up, with the function that ends it (server close). */
  readonly register: (end: () => void) => () => void;
}

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

/** Refuses a follow before anything is written when the server has as many as it takes. */
export function admitFollower(budget: FollowBudget): void {
  if (budget.followers.size >= budget.maxFollowers) {
    throw new TendError('TEND_API_BUSY', `${budget.maxFollowers} follow streams are open already`);
  }
}

export function writeFeed<T>({ res, feed, follow, budget, register }: StreamOptions<T>): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  const snapshot = feed.snapshot.map(line).join('');
  // The client may have left while the Control was reading the snapshot: subscribe to nothing.
  if (!follow || feed.follow === undefined || res.destroyed || res.socket?.destroyed === true) {
    res.end(snapshot);
    return;
  }
  if (snapshot !== '') res.write(snapshot);
  else res.flushHeaders(); // the client learns at once that the stream is open
  // A follow waits for lines as long as it likes: no idle timeout on its connection.
  res.socket?.setTimeout(0);
  // The snapshot may be large by request (-n 100000); only what live items add counts.
  const base = res.writableLength;
  budget.followers.add(res);

  let done = false;
  let unsubscribe: (() => void) | null = null;
  let batch: string[] = [];
  let batchBytes = 0;
  let flushQueued = false;
  const finish = (last?: ErrorBody): void => {
    if (done) return;
    done = true;
    budget.followers.delete(res);
    batch = [];
    unsubscribe?.();
    unregister();
    if (!res.writableEnded && !res.destroyed) res.end(last === undefined ? undefined : line(last));
  };
  const flush = (): void => {
    flushQueued = false;
    if (done || batch.length === 0) return;
    const text = batch.join('');
    batch = [];
    batchBytes = 0;
    res.write(text);
  };
  const push = (item: T): void => {
    if (done) return;
    const text = line(item);
    const share = shareOf(budget);
    if (res.writableLength - base + batchBytes + text.length > share) {
      const message = `the reader fell more than ${Math.max(1, Math.round(share / 1024))} KiB behind (its share of the ${Math.round(budget.maxBytes / 1024 / 1024)} MiB all followers may owe); the stream was ended`;
      finish({ error: { code: SLOW_READER_CODE, message, hint: 'read the stream faster, or ask for fewer services' } });
      return;
    }
    batch.push(text);
    batchBytes += text.length;
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };

  const unregister = register(() => finish());
  // 'close' on the response (not the request) fires when the client disconnects mid-stream.
  res.once('close', () => finish());
  const stop = feed.follow(push, () => {
    flush();
    finish();
  });
  if (done) stop(); // the feed ended (or the reader was dropped) while subscribing
  else unsubscribe = stop;
}
