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
  const files = (chosen.length === 0 ? config.services : chosen).map((service) => ({
    service: service.name,
    file: service.logs.file,
    keep: service.logs.keep,
  }));
  const snapshot = readLastLines({ files, lines: query.lines, ...(query.since === undefined ? {} : { since: query.since }) });
  // Records carry the label ps shows ("web" or "web.1"), so every client names instances alike.
  const instances = new Map(config.services.map((s) => [s.name, s.instances]));
  const labelled = (r: LogRecord): LogRecord => ({ ...r, label: labelOf(unitRef(r.service, r.instance), instances.get(r.service) ?? 1) });
  const records = snapshot.records.map(labelled);
  if (!query.follow) return { snapshot: records };
  return { snapshot: records, follow: (push) => followLogs({ files, from: snapshot.positions }, (r) => push(labelled(r))) };
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
