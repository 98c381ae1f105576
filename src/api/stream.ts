// Writes a Feed as NDJSON: the snapshot, then (when following) each live item, until the client
// goes away, the engine ends the feed, or the server closes. A reader that falls behind makes a
// source that can wait (the log files: they keep the lines) pause until it catches up, so
// nothing piles up for it in memory. A source that cannot wait goes on, and a reader too far
// behind is dropped with a last error line rather than buffered forever — all followers share
// ONE memory budget (FollowBudget). Live items are batched: one write per turn of the event
// loop, whatever the line rate.
import type { ServerResponse } from 'node:http';
import { TendError } from '../errors.js';
import type { ErrorBody, Feed, Subscription } from './protocol.js';

/** Bytes of live items all followers together may owe their readers. */
const DEFAULT_FOLLOW_BUDGET = 32 * 1024 * 1024;
/** Follow streams open at once; one more is refused (TEND_API_BUSY). */
const DEFAULT_MAX_FOLLOWERS = 128;

/** Not in the catalogue: it never reaches a CLI exit, it only ends a stream. See docs/api.md. */
const SLOW_READER_CODE = 'TEND_API_SLOW_READER';

/** The follow streams of one server, and what they owe their readers together. */
export interface FollowBudget {
  readonly maxBytes: number;
  readonly maxFollowers: number;
  /** Every follow response until it is closed: live ones, and dropped ones still draining their last line. */
  readonly streams: Set<ServerResponse>;
  /** How many of them are live (subscribed). */
  live: number;
  /** What all of them owe, read at most once per turn of the event loop. */
  owed: { at: number; bytes: number };
}

export function createFollowBudget(maxBytes = DEFAULT_FOLLOW_BUDGET, maxFollowers = DEFAULT_MAX_FOLLOWERS): FollowBudget {
  return { maxBytes, maxFollowers, streams: new Set(), live: 0, owed: { at: -1, bytes: 0 } };
}

let turn = 0;
const nextTurn = (): void => {
  turn += 1;
};

/** Bytes all follow streams have queued for their readers, summed once per turn. */
function owedByAll(budget: FollowBudget): number {
  if (budget.owed.at !== turn) {
    let bytes = 0;
    for (const res of budget.streams) bytes += res.writableLength;
    budget.owed = { at: turn, bytes };
    setImmediate(nextTurn);
  }
  return budget.owed.bytes;
}

/** Each live follower's share: the budget split evenly among those following now. */
const shareOf = (budget: FollowBudget): number => Math.floor(budget.maxBytes / Math.max(1, budget.live));

/** A dropped reader gets this long to take its last line; then its connection, and what it still owed, go. */
const DRAIN_MS = 5000;
/** A reader this far behind a source that can wait (a log file) makes it wait, and go on once it caught up by half. */
const PAUSE_AT = 64 * 1024;

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
  if (budget.streams.size >= budget.maxFollowers) {
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
  budget.streams.add(res);
  budget.live += 1;
  res.once('close', () => budget.streams.delete(res));

  let done = false;
  let unsubscribe: (() => void) | null = null;
  let batch: string[] = [];
  let batchBytes = 0;
  let flushQueued = false;
  const finish = (last?: ErrorBody): void => {
    if (done) return;
    done = true;
    budget.live -= 1;
    batch = [];
    unsubscribe?.();
    unregister();
    if (res.writableEnded || res.destroyed) return;
    res.end(last === undefined ? undefined : line(last));
    // A reader that stopped reading would keep what it owes here for ever: it gets a few
    // seconds to take it (and the last line), then the connection goes, and the memory with it.
    if (last !== undefined) {
      const drain = setTimeout(() => res.destroy(), DRAIN_MS);
      drain.unref();
      res.once('close', () => clearTimeout(drain));
    }
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
    const owed = res.writableLength - base + batchBytes + text.length;
    // A source that can wait (a file) waits while the reader is behind: nothing piles up here.
    if (owed > PAUSE_AT && subscription?.pause !== undefined && !paused) {
      paused = true;
      subscription.pause();
    }
    // Over its share, or all together over the budget (draining readers count too) while this
    // one owes more than a fair part: dropped.
    if (owed > share || (owedByAll(budget) + batchBytes > budget.maxBytes && owed > share / 2)) {
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
  let paused = false;
  let subscription: Subscription | null = null;
  res.on('drain', () => {
    if (!paused || done || res.writableLength - base > PAUSE_AT / 2) return;
    paused = false;
    subscription?.resume?.();
  });
  subscription = feed.follow(push, () => {
    flush();
    finish();
  });
  if (done)
    subscription.stop(); // the feed ended (or the reader was dropped) while subscribing
  else unsubscribe = () => subscription?.stop();
}
