// A HostListener for tests: records every event and every output byte per unit, in order,
// and lets a test wait for an event or an output pattern (resolving on the fact, with a
// deadline whose error prints what was seen). It never spawns or kills anything.

import { StringDecoder } from 'node:string_decoder';
import type { HostFact, HostListener, OutputStream } from '../../src/host/host.js';
import { waitForChange, type Subscribe, type WaitOptions } from './wait-for.js';

type EventOf<T extends HostFact['type']> = Extract<HostFact, { type: T }>;

interface StreamRecord {
  readonly chunks: Buffer[];
  readonly decoder: StringDecoder;
  text: string;
  /** Output or EOF was seen in the current life of the unit (since its last spawned). */
  started: boolean;
  ended: boolean;
}

export class RecordingListener implements HostListener {
  readonly events: HostFact[] = [];
  /** Breaches of the listener contract (output after EOF, lives mixed...); tests assert it stays empty. */
  readonly violations: string[] = [];
  readonly #streams = new Map<string, StreamRecord>();
  readonly #watchers = new Set<() => void>();

  event(event: HostFact): void {
    this.#checkOrder(event);
    if (event.type === 'spawned') {
      // A new life: its streams start afresh, and the previous life's must have ended first.
      for (const stream of ['out', 'err'] as const) {
        const record = this.#stream(event.unit, stream);
        if (record.started && !record.ended) this.violations.push(`${event.unit}/${stream}: spawned again before outputEnd`);
        record.started = false;
        record.ended = false;
      }
    }
    this.events.push(event);
    this.#notify();
  }

  output(unit: string, stream: OutputStream, chunk: Buffer): void {
    const record = this.#stream(unit, stream);
    if (record.ended) this.violations.push(`${unit}/${stream}: output after outputEnd`);
    record.started = true;
    record.chunks.push(chunk);
    record.text += record.decoder.write(chunk);
    this.#notify();
  }

  outputEnd(unit: string, stream: OutputStream): void {
    const record = this.#stream(unit, stream);
    if (record.ended) this.violations.push(`${unit}/${stream}: second outputEnd`);
    record.text += record.decoder.end();
    record.started = true;
    record.ended = true;
    this.#notify();
  }

  /** Called after every recorded fact; returns the unsubscribe function. */
  readonly onChange: Subscribe = (watcher) => {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  };

  eventsOf(unit: string): HostFact[] {
    return this.events.filter((e) => e.unit === unit);
  }

  /** Event types of the unit, in order: ['spawned', 'exited', 'group-gone']. */
  typesOf(unit: string): string[] {
    return this.eventsOf(unit).map((e) => e.type);
  }

  text(unit: string, stream: OutputStream = 'out'): string {
    return this.#stream(unit, stream).text;
  }

  bytes(unit: string, stream: OutputStream = 'out'): Buffer {
    return Buffer.concat(this.#stream(unit, stream).chunks);
  }

  chunkCount(unit: string, stream: OutputStream = 'out'): number {
    return this.#stream(unit, stream).chunks.length;
  }

  hasEnded(unit: string, stream: OutputStream): boolean {
    return this.#stream(unit, stream).ended;
  }

  /** The nth (1-based) event of this type for the unit. */
  waitForEvent<T extends HostFact['type']>(
    unit: string,
    type: T,
    { nth = 1, ...options }: WaitOptions & { nth?: number } = {},
  ): Promise<EventOf<T>> {
    const find = (): EventOf<T> | undefined => this.eventsOf(unit).filter((e): e is EventOf<T> => e.type === type)[nth - 1];
    return waitForChange(this.onChange, find, { what: `${type} #${nth} of ${unit}`, seen: () => this.describe(unit), ...options });
  }

  /** The first match of pattern in the unit's output so far (a string matches literally). */
  waitForOutput(
    unit: string,
    pattern: string | RegExp,
    { stream = 'out', ...options }: WaitOptions & { stream?: OutputStream } = {},
  ): Promise<RegExpMatchArray> {
    const regexp = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return waitForChange(this.onChange, () => regexp.exec(this.text(unit, stream)) ?? undefined, {
      what: `${String(regexp)} on ${unit}/${stream}`,
      seen: () => this.describe(unit),
      ...options,
    });
  }

  /** Both streams of the unit reached EOF. */
  async waitForOutputEnd(unit: string, options: WaitOptions = {}): Promise<void> {
    await waitForChange(this.onChange, () => this.hasEnded(unit, 'out') && this.hasEnded(unit, 'err'), {
      what: `outputEnd of ${unit}`,
      seen: () => this.describe(unit),
      ...options,
    });
  }

  /** Events and the tail of the output of a unit, for timeout messages. */
  describe(unit: string): string {
    const tail = (stream: OutputStream): string => {
      const { text, ended } = this.#stream(unit, stream);
      const shown = text.length > 2000 ? `…${text.slice(-2000)}` : text;
      return `${stream}${ended ? ' (ended)' : ''}: ${JSON.stringify(shown)}`;
    };
    const events = this.eventsOf(unit).map((e) => JSON.stringify(e));
    return [`events of ${unit}:`, ...(events.length > 0 ? events : ['(none)']), tail('out'), tail('err')].join('\n');
  }

  #stream(unit: string, stream: OutputStream): StreamRecord {
    const key = `${unit}\0${stream}`;
    let record = this.#streams.get(key);
    if (record === undefined) {
      record = { chunks: [], decoder: new StringDecoder('utf8'), text: '', started: false, ended: false };
      this.#streams.set(key, record);
    }
    return record;
  }

  /** Per unit: spawned|spawn-failed, maybe notified, then exited (same pid), then group-gone; a new life may follow. */
  #checkOrder(event: HostFact): void {
    const previous = this.eventsOf(event.unit).at(-1);
    const after = previous?.type ?? 'nothing';
    const allowed: Record<HostFact['type'], readonly string[]> = {
      spawned: ['nothing', 'spawn-failed', 'exited', 'group-gone'],
      'spawn-failed': ['nothing', 'spawn-failed', 'exited', 'group-gone'],
      notified: ['spawned'],
      exited: ['spawned', 'notified'],
      'group-gone': ['nothing', 'spawn-failed', 'exited', 'group-gone'],
      'log-lost': ['nothing', 'spawned', 'spawn-failed', 'exited', 'group-gone'], // the log writer's, any time (never from a host)
    };
    if (!allowed[event.type].includes(after)) this.violations.push(`${event.unit}: ${event.type} after ${after}`);
    if ((event.type === 'exited' || event.type === 'notified') && previous?.type === 'spawned' && previous.pid !== event.pid) {
      this.violations.push(`${event.unit}: exited pid ${event.pid} but spawned pid ${previous.pid}`);
    }
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}
