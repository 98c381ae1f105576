// Where the engine's records go on disk: its notices to the project's events file, and — when
// the engine itself holds the pipes (foreground `tend up`) — service output to the log files
// through the same writer the keeper uses. A refused write is reported once, never fatal.
import type { Config } from '../config/schema.js';
import type { LogTarget, OutputStream } from '../host/host.js';
import { openEventsFile } from '../logs/events-file.js';
import { createUnitLogs, type LogLoss } from '../logs/unit-logs.js';
import type { Clock } from './clock.js';

export const eventsFileOf = (logDir: string) => `${logDir}/events.jsonl`;

/** Events kept in memory while the disk refuses them (a full disk), retried every second. */
const MAX_HELD_EVENTS = 10_000;
const EVENTS_RETRY_MS = 1000;

export function createLogRouter({ config, clock, warn, onLoss }: { config: Config; clock: Clock; warn: (text: string) => void; onLoss: (unit: string, loss: LogLoss) => void }) {
  const units = createUnitLogs({ warn, onLoss, now: () => clock.now() });
  let warnedEvents = false;
  let events = openEventsFile(eventsFileOf(config.logDir));
  let logDir = config.logDir;
  let held: object[] = [];
  let dropped = 0;
  let retry: NodeJS.Timeout | undefined;

  function flushEvents(): void {
    if (held.length === 0) return;
    try {
      events.append(...held);
      held = [];
      if (warnedEvents) warn(`events are written again${dropped > 0 ? `; ${dropped} older events were dropped while the disk refused them` : ''}`);
      warnedEvents = false;
      dropped = 0;
    } catch (error) {
      // Kept (bounded) and tried again: a full disk delays events, it does not lose them.
      if (!warnedEvents) warn(`${error instanceof Error ? error.message : String(error)}; events are kept in memory and written when the disk takes them`);
      warnedEvents = true;
      if (held.length > MAX_HELD_EVENTS) {
        dropped += held.length - MAX_HELD_EVENTS;
        held = held.slice(-MAX_HELD_EVENTS);
      }
      retry ??= setTimeout(() => {
        retry = undefined;
        flushEvents();
      }, EVENTS_RETRY_MS).unref();
    }
  }

  return {
    /** Where a unit's next process writes (set at each spawn, so new settings apply then). */
    route: (unit: string, target: LogTarget) => units.route(unit, target),
    /** Frames a chunk, writes the complete lines and returns them (for the terminal). */
    output: (unit: string, stream: OutputStream, chunk: Buffer) => units.output(unit, stream, chunk),
    /** EOF: the partial last line, written and returned. */
    end: (unit: string, stream: OutputStream) => units.end(unit, stream),

    /**
     * Appended at the end of this turn of the event loop, all in one write: a stop of 1,000
     * services is one write of its 2,000 notices, not 2,000 writes.
     */
    recordEvent(record: object): void {
      if (held.push(record) === 1 && retry === undefined) setImmediate(flushEvents);
    },

    /** A reload may move the log directory: the events file follows. */
    reconfigure(next: Config): void {
      if (next.logDir === logDir) return;
      flushEvents();
      events.close();
      events = openEventsFile(eventsFileOf(next.logDir));
      logDir = next.logDir;
    },

    close(): void {
      clearTimeout(retry);
      flushEvents();
      units.close();
      events.close();
    },
  };
}
