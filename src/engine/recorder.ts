// The engine's records: each notice of the core (and each loss of output a host reports) as an
// event record — in the project's events file, to the observer (the terminal), and counted per
// unit for `ps`. Appended once per turn of the event loop, all in one write; a disk that
// refuses them (full) delays them, it does not lose them.
import type { EventKind, EventRecord } from '../api/protocol.js';
import type { Config } from '../config/schema.js';
import type { Notice } from '../core/effects.js';
import type { HostFact } from '../host/host.js';
import { openEventsFile } from '../logs/events-file.js';
import type { Clock } from './clock.js';
import type { UnitRef } from './unit-ids.js';

export const eventsFileOf = (logDir: string) => `${logDir}/events.jsonl`;

/** Events kept in memory while the disk refuses them (a full disk), retried every second. */
const MAX_HELD_EVENTS = 10_000;
const EVENTS_RETRY_MS = 1000;

export interface RecorderOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly notice: (record: EventRecord) => void;
  readonly warn: (text: string) => void;
}

export function createRecorder({ config, clock, notice, warn }: RecorderOptions) {
  let events = openEventsFile(eventsFileOf(config.logDir));
  let logDir = config.logDir;
  let held: EventRecord[] = [];
  let refused = false;
  let dropped = 0;
  let retry: (() => void) | undefined;
  /** Lost output per unit id: the totals, and what the report of a loss still under way counted. */
  const lost = new Map<string, { lines: number; bytes: number; open: { lines: number; bytes: number } | null }>();

  function flush(): void {
    if (held.length === 0) return;
    try {
      events.append(...held);
      held = [];
      if (refused)
        warn(`events are written again${dropped > 0 ? `; ${dropped} older events were dropped while the disk refused them` : ''}`);
      refused = false;
      dropped = 0;
    } catch (error) {
      // Kept (bounded) and tried again: a full disk delays events, it does not lose them.
      if (!refused)
        warn(`${error instanceof Error ? error.message : String(error)}; events are kept in memory and written when the disk takes them`);
      refused = true;
      if (held.length > MAX_HELD_EVENTS) {
        dropped += held.length - MAX_HELD_EVENTS;
        held = held.slice(-MAX_HELD_EVENTS);
      }
      retry ??= clock.setTimer(EVENTS_RETRY_MS, () => {
        retry = undefined;
        flush();
      });
    }
  }

  const listeners: Array<(record: EventRecord) => void> = [];

  /** A notice of the core, or a loss of output; every Notice is an EventKind of the protocol (the compiler checks it here). */
  function record(ref: UnitRef, label: string, what: Notice | EventKind): void {
    const kind: EventKind = what;
    const entry: EventRecord = {
      time: new Date(clock.wall()).toISOString(),
      service: ref.service,
      instance: ref.instance,
      unit: ref.id,
      label,
      ...kind,
    };
    // Appended at the end of this turn, all in one write: a stop of 1,000 services is one write of its 2,000 notices.
    if (held.push(entry) === 1 && retry === undefined) setImmediate(flush);
    notice(entry);
    for (const listener of listeners) listener(entry);
  }

  return {
    record,
    /** A record about tend itself (an engine start, a reload): unit "", label "tend". */
    recordTend: (what: EventKind): void => record({ id: '', service: '', instance: 0 }, 'tend', what),
    /** `fn` sees every record as it is made (alerts.ts). */
    listen: (fn: (record: EventRecord) => void): void => void listeners.push(fn),

    /** A loss is counted when it begins and topped up to its totals when writing resumes. */
    recordLoss(ref: UnitRef, label: string, event: Extract<HostFact, { type: 'log-lost' }>): void {
      const count = lost.get(ref.id) ?? { lines: 0, bytes: 0, open: null };
      count.lines += event.lines - (count.open?.lines ?? 0);
      count.bytes += event.bytes - (count.open?.bytes ?? 0);
      count.open = event.ended ? null : { lines: event.lines, bytes: event.bytes };
      lost.set(ref.id, count);
      const { lines, bytes, reason, ended } = event;
      record(ref, label, { kind: 'log-lost', lines, bytes, reason, ended });
    },

    /** Output lines and bytes the unit's log could not take, since this engine started. */
    lostOf: (id: string): { lines: number; bytes: number } => lost.get(id) ?? { lines: 0, bytes: 0 },

    /** A reload may move the log directory: the events file follows. */
    reconfigure(next: Config): void {
      if (next.logDir === logDir) return;
      flush();
      events.close();
      events = openEventsFile(eventsFileOf(next.logDir));
      logDir = next.logDir;
    },

    close(): void {
      retry?.();
      retry = undefined;
      flush();
      events.close();
    },
  };
}
