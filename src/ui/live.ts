// The page's one stream, GET /v1/live: status, usage samples, events and logs tagged by kind. A
// browser opens at most six connections to a host over HTTP/1.1; four streams a tab would leave
// a second tab, and the buttons, waiting. The views subscribe by kind; choosing whose logs (or
// none, when following is paused) reconnects, and every view then starts again from the snapshot.
import type { EventRecord, LiveItem, LogRecord, StatusResponse, UsageTick } from '../api/protocol.js';
import { follow, type StreamState } from './stream.js';

interface Kinds {
  readonly status: StatusResponse;
  readonly usage: UsageTick;
  readonly event: EventRecord;
  readonly log: LogRecord;
}

interface Subscriber<T> {
  /** A (re)connection: its snapshot comes next, so what the last one sent should go. */
  readonly onOpen: () => void;
  readonly onItem: (item: T) => void;
}

export interface Live {
  subscribe<K extends keyof Kinds>(kind: K, subscriber: Subscriber<Kinds[K]>): () => void;
  /** Whose logs to follow: a service, '' for all, null for none. */
  setLogs(service: string | null): void;
  close(): void;
}

/** How many of the latest events and log lines each (re)connection sends first. */
const EVENTS = 200;
const LOGS = 200;

export function createLive(onState: (state: StreamState) => void): Live {
  const subscribers: { [K in keyof Kinds]: Set<Subscriber<Kinds[K]>> } = {
    status: new Set(),
    usage: new Set(),
    event: new Set(),
    log: new Set(),
  };
  let logs: string | null = '';
  let stop: (() => void) | null = null;

  const pathOf = (service: string | null): string => {
    const query = new URLSearchParams({ follow: '1', events: String(EVENTS), logs: service === null ? '0' : String(LOGS) });
    if (service !== null && service !== '') query.append('service', service);
    return `/v1/live?${query}`;
  };
  const connect = (): void => {
    stop?.();
    stop = follow<LiveItem>({
      path: pathOf(logs),
      onOpen: () => {
        for (const set of Object.values(subscribers)) for (const subscriber of set) subscriber.onOpen();
      },
      onItem: (item) => {
        if ('status' in item) for (const s of subscribers.status) s.onItem(item.status);
        else if ('usage' in item) for (const s of subscribers.usage) s.onItem(item.usage);
        else if ('event' in item) for (const s of subscribers.event) s.onItem(item.event);
        else if ('log' in item) for (const s of subscribers.log) s.onItem(item.log);
      },
      onState,
    });
  };
  // Started on the next task: the views subscribe during the first render, before it answers.
  const started = setTimeout(connect, 0);

  return {
    subscribe(kind, subscriber) {
      const set = subscribers[kind] as Set<typeof subscriber>;
      set.add(subscriber);
      return () => void set.delete(subscriber);
    },
    setLogs(service) {
      if (service === logs) return;
      logs = service;
      if (stop !== null) connect();
    },
    close() {
      clearTimeout(started);
      stop?.();
    },
  };
}
