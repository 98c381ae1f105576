// Where service output and notices go on disk: one framer per unit and stream, one log file per
// service (shared by its instances), one events file per project. Reopens files when a reload
// changes a service's log settings. A refused write is reported once, never fatal.
import type { Config, ServiceConfig } from '../config/schema.js';
import type { OutputStream } from '../host/host.js';
import { openEventsFile } from '../logs/events-file.js';
import { openFileSink, type FileSink } from '../logs/file-sink.js';
import { createFramer, type Framer } from '../logs/framer.js';
import type { Clock } from './clock.js';
import type { UnitRef } from './units.js';

export const eventsFileOf = (logDir: string) => `${logDir}/events.jsonl`;

interface OpenSink {
  readonly settings: string;
  readonly sink: FileSink;
}

export function createLogRouter({ config, clock, warn }: { config: Config; clock: Clock; warn: (text: string) => void }) {
  const framers = new Map<string, Framer>();
  const sinks = new Map<string, OpenSink>();
  const warned = new Set<string>();
  let events = openEventsFile(eventsFileOf(config.logDir));
  let logDir = config.logDir;

  const settingsOf = (service: ServiceConfig) => JSON.stringify(service.logs);
  const open = (service: ServiceConfig): OpenSink => ({
    settings: settingsOf(service),
    sink: openFileSink({
      file: service.logs.file,
      maxSize: service.logs.max_size,
      keep: service.logs.keep,
      compress: service.logs.compress === true,
      onRotateError: (error) => warnOnce(`rotate:${service.name}`, error),
    }),
  });
  for (const service of config.services) sinks.set(service.name, open(service));

  function warnOnce(key: string, error: unknown): void {
    if (warned.has(key)) return;
    warned.add(key);
    warn(error instanceof Error ? error.message : String(error));
  }

  function framerOf(ref: UnitRef, stream: OutputStream): Framer {
    const key = `${ref.id}:${stream}`;
    let framer = framers.get(key);
    if (!framer) framers.set(key, (framer = createFramer()));
    return framer;
  }

  return {
    frame: (ref: UnitRef, stream: OutputStream, chunk: Buffer) => framerOf(ref, stream).push(chunk),
    flush: (ref: UnitRef, stream: OutputStream) => framerOf(ref, stream).end(),

    write(ref: UnitRef, stream: OutputStream, lines: readonly Buffer[]): void {
      try {
        sinks.get(ref.service)?.sink.write(lines, { time: clock.now(), instance: ref.instance, stream });
      } catch (error) {
        warnOnce(`log:${ref.service}`, error);
      }
    },

    recordEvent(record: object): void {
      try {
        events.append(record);
      } catch (error) {
        warnOnce('events', error);
      }
    },

    /** Open sinks for new services, reopen changed ones, close removed ones. */
    reconfigure(next: Config): void {
      const names = new Set(next.services.map((s) => s.name));
      for (const [name, open] of sinks) {
        if (!names.has(name)) {
          open.sink.close();
          sinks.delete(name);
        }
      }
      for (const service of next.services) {
        const existing = sinks.get(service.name);
        if (existing?.settings === settingsOf(service)) continue;
        existing?.sink.close();
        sinks.set(service.name, open(service));
      }
      if (next.logDir !== logDir) {
        events.close();
        events = openEventsFile(eventsFileOf(next.logDir));
        logDir = next.logDir;
      }
    },

    close(): void {
      for (const { sink } of sinks.values()) sink.close();
      sinks.clear();
      events.close();
    },
  };
}
