// Where each key path of a parsed config is written (key and value positions) and the order of
// keys as the file lists them. Built by the YAML/JSON and TOML parsers; read by diagnostics
// (positions) and load (services in file order, which JS objects lose for names like "1").
import type { Locator, Position } from './diagnostics.js';
import type { PathSegment } from './phrasing.js';

const start: Position = { line: 1, column: 1 };

export class SourceMap implements Locator {
  readonly #entries = new Map<string, { key: Position; value: Position }>();
  readonly #order = new Map<string, string[]>();

  /** Records `path`; the first record wins (a TOML table named again by a later header stays put). */
  add(path: readonly PathSegment[], key: Position, value: Position = key): void {
    const id = pathId(path);
    if (this.#entries.has(id)) return;
    this.#entries.set(id, { key, value });
    const last = path[path.length - 1];
    if (typeof last === 'string') {
      const parent = pathId(path.slice(0, -1));
      const keys = this.#order.get(parent) ?? [];
      if (!keys.includes(last)) keys.push(last);
      this.#order.set(parent, keys);
    }
  }

  /** YAML and JSON keep the last of duplicate keys, so positions must come from the last one too. */
  replace(path: readonly PathSegment[], key: Position, value: Position = key): void {
    this.#forget(pathId(path));
    this.add(path, key, value);
  }

  #forget(id: string): void {
    const prefix = id.slice(0, -1);
    for (const other of [...this.#entries.keys()]) {
      if (other === id || other.startsWith(`${prefix},`)) this.#entries.delete(other);
    }
    for (const other of [...this.#order.keys()]) if (other === id || other.startsWith(`${prefix},`)) this.#order.delete(other);
  }

  /** The position of `path`, or else the key of its nearest recorded ancestor, or else 1:1. */
  locate(path: readonly PathSegment[], part: 'key' | 'value'): Position {
    const exact = this.#entries.get(pathId(path));
    if (exact) return exact[part];
    for (let length = path.length - 1; length > 0; length--) {
      const entry = this.#entries.get(pathId(path.slice(0, length)));
      if (entry) return entry.key;
    }
    // Something missing at the top level: the start of the file is the honest answer.
    return start;
  }

  /** Keys of the map at `path` in file order (empty when unknown). */
  keysOf(path: readonly PathSegment[]): readonly string[] {
    return this.#order.get(pathId(path)) ?? [];
  }
}

function pathId(path: readonly PathSegment[]): string {
  return JSON.stringify(path.map(String));
}
