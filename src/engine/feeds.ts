// Logs and events read back from their files, as a feed: what the API serves, and what the CLI
// reads itself when no engine answers (after `tend down`, or while an engine restarts). The
// files are the record; the engine adds nothing to them but the labels ps shows.
import type { EventQuery, EventRecord, Feed, LogQuery, LogRecord } from '../api/protocol.js';
import type { Config } from '../config/schema.js';
import { followEvents, followLogs, readLastEvents, readLastLines } from '../logs/follow.js';
import { eventsFileOf } from './recorder.js';
import { labelOf, unitRef, unknownService } from './unit-ids.js';

export function logFeed(config: Pick<Config, 'services'>, query: LogQuery): Feed<LogRecord> {
  const names = config.services.map((s) => s.name);
  const chosen = query.services.map((name) => config.services.find((s) => s.name === name) ?? throwUnknown(name, names));
  // Records carry the label ps shows ("web" or "web.1"), so every client names instances alike;
  // made once per instance, not per line (a follower of 200 services may get 10k lines a second).
  const files = (chosen.length === 0 ? config.services : chosen).map((service) => {
    const labels: string[] = [];
    return {
      service: service.name,
      file: service.logs.file,
      keep: service.logs.keep,
      label: (instance: number) => (labels[instance] ??= labelOf(unitRef(service.name, instance), service.instances)),
    };
  });
  const snapshot = readLastLines({ files, lines: query.lines, ...(query.since === undefined ? {} : { since: query.since }) });
  if (!query.follow) return { snapshot: snapshot.records };
  return { snapshot: snapshot.records, follow: (push) => followLogs({ files, from: snapshot.positions }, push) };
}

export function eventFeed(logDir: string, query: EventQuery): Feed<EventRecord> {
  const file = eventsFileOf(logDir);
  const snapshot = readLastEvents(file, query.lines);
  if (!query.follow) return { snapshot: snapshot.records };
  return { snapshot: snapshot.records, follow: (push) => followEvents(file, snapshot.position, push) };
}

function throwUnknown(name: string, names: readonly string[]): never {
  throw unknownService(name, names);
}
