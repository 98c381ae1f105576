// TOML → plain value (smol-toml) + a best-effort SourceMap. smol-toml gives line:column for
// syntax errors but no positions for keys, so after a successful parse we scan the (valid) text
// for `[a.b]` headers, `key = value` lines, inline tables and arrays. Anything the scan does not
// understand is skipped: a key it misses falls back to its nearest located ancestor.
import { parse, TomlError } from 'smol-toml';
import { duplicateKey, type Diagnostic, type Position } from './diagnostics.js';
import type { ParsedConfig } from './parse.js';
import type { PathSegment } from './phrasing.js';
import { SourceMap } from './source-map.js';

export function parseToml({ text, file }: { text: string; file: string }): ParsedConfig {
  const source = new SourceMap();
  source.add([], { line: 1, column: 1 });
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    return { value: undefined, source, diagnostics: [tomlSyntax(file, text, error)], syntaxOk: false };
  }
  try {
    new TomlScanner(text, source).scan();
  } catch {
    // Best effort by design: positions found so far stay, the rest fall back to ancestors.
  }
  return { value, source, diagnostics: [], syntaxOk: true };
}

/** smol-toml's message without its code excerpt; a redefinition becomes a duplicate-key diagnostic. */
function tomlSyntax(file: string, text: string, error: TomlError): Diagnostic {
  const at: Position = { line: error.line, column: error.column };
  const message = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
  const duplicate = /redefine/.test(message) ? findRedefinition(text.split('\n'), error.line) : undefined;
  if (duplicate === undefined) return { file, ...at, code: 'syntax', message: `syntax error: ${message}` };
  const { path, name, column, firstLine } = duplicate;
  return duplicateKey(file, path, name, { line: error.line, column }, firstLine);
}

/**
 * Names what line `line` redefines: a [table] header or a `key =` in the current table, and the
 * line of the first definition. Best effort over plain headers and keys; undefined otherwise.
 */
function findRedefinition(
  lines: readonly string[],
  line: number,
): { path: PathSegment[]; name: string; column: number; firstLine: number } | undefined {
  const target = lines[line - 1] ?? '';
  const header = (text: string) => /^\s*\[([^[\]]+)\]\s*(#.*)?$/.exec(text)?.[1];
  const keyOf = (text: string) => /^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*[.=]/.exec(text)?.[1];
  const own = header(target);
  if (own !== undefined) {
    const parts = splitKey(own);
    const firstLine =
      lines.findIndex((text) => header(text) !== undefined && splitKey(header(text) ?? '').join('.') === parts.join('.')) + 1;
    const name = parts.pop();
    // First header of that name is this one: it clashes with a key (services = 1), say it plainly.
    if (name === undefined || firstLine === line) return undefined;
    return { path: parts, name, column: target.indexOf('[') + 1, firstLine };
  }
  const key = keyOf(target);
  if (key === undefined) return undefined;
  let start = line - 2;
  while (start >= 0 && header(lines[start] ?? '') === undefined) start--;
  const table = start >= 0 ? splitKey(header(lines[start] ?? '') ?? '') : [];
  const firstIndex = lines.findIndex((text, index) => index > start && keyOf(text) === key);
  if (firstIndex + 1 === line) return undefined;
  return { path: table, name: unquote(key), column: target.indexOf(key) + 1, firstLine: firstIndex + 1 };
}

function splitKey(dotted: string): string[] {
  return [...dotted.matchAll(/"[^"]*"|'[^']*'|[A-Za-z0-9_-]+/g)].map((match) => unquote(match[0]));
}

function unquote(key: string): string {
  return /^["'].*["']$/.test(key) ? key.slice(1, -1) : key;
}

/** A small cursor over valid TOML that records where each key and value starts. */
class TomlScanner {
  #offset = 0;
  readonly #lineStarts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly source: SourceMap,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.#lineStarts.push(i + 1);
  }

  scan(): void {
    let table: PathSegment[] = [];
    const arrayCounts = new Map<string, number>();
    while (this.#offset < this.text.length) {
      this.skipBlank(true);
      const char = this.text[this.#offset];
      if (char === undefined) break;
      if (char === '[') {
        const isArray = this.text[this.#offset + 1] === '[';
        this.#offset += isArray ? 2 : 1;
        table = this.readKey([], true).path;
        if (isArray) {
          // [[x]] opens element n of array x: later keys live under x[n].
          const id = JSON.stringify(table);
          const index = arrayCounts.get(id) ?? 0;
          arrayCounts.set(id, index + 1);
          table = [...table, index];
        }
        this.skipLine();
      } else {
        const { path, at } = this.readKey(table, false);
        this.expect('=');
        this.readValue(path, at);
        this.skipLine(); // a key/value pair ends its line: skip a trailing comment
      }
    }
  }

  /**
   * A dotted key (bare or quoted parts) under `base`. Each leading part is an implicit table and
   * is recorded here; the last part is recorded too for a [header], else by readValue with its value.
   */
  private readKey(base: readonly PathSegment[], recordLast: boolean): { path: PathSegment[]; at: Position } {
    const path = [...base];
    for (;;) {
      this.skipBlank(false);
      const at = this.position();
      path.push(this.readKeyPart());
      this.skipBlank(false);
      const isLast = this.text[this.#offset] !== '.';
      if (!isLast || recordLast) this.source.add(path, at);
      if (isLast) return { path, at };
      this.#offset++;
    }
  }

  private readKeyPart(): string {
    const char = this.text[this.#offset];
    if (char === '"' || char === "'") return this.readString();
    const match = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.#offset));
    if (!match) throw new Error('unexpected key');
    this.#offset += match[0].length;
    return match[0];
  }

  private readValue(path: PathSegment[], keyAt: Position): void {
    this.skipBlank(false);
    const at = this.position();
    this.source.add(path, keyAt, at);
    const char = this.text[this.#offset];
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      this.#offset++;
      for (let index = 0; ; index++) {
        this.skipBlank(true);
        if (this.text[this.#offset] === close) break;
        if (char === '{') {
          const key = this.readKey(path, false);
          this.expect('=');
          this.readValue(key.path, key.at);
        } else this.readValue([...path, index], this.position());
        this.skipBlank(true);
        if (this.text[this.#offset] === ',') this.#offset++;
      }
      this.#offset++;
    } else if (char === '"' || char === "'") this.readString();
    else this.#offset += /^[^,\]}\s#]*/.exec(this.text.slice(this.#offset))?.[0].length ?? 0;
  }

  private readString(): string {
    const quote = this.text[this.#offset] ?? '"';
    const triple = this.text.startsWith(quote.repeat(3), this.#offset);
    const delimiter = triple ? quote.repeat(3) : quote;
    const start = this.#offset + delimiter.length;
    let end = start;
    while (end < this.text.length && !this.text.startsWith(delimiter, end)) end += quote === '"' && this.text[end] === '\\' ? 2 : 1;
    this.#offset = end + delimiter.length;
    const raw = this.text.slice(start, end);
    return quote === '"' ? raw.replace(/\\(["\\])/g, '$1') : raw;
  }

  private skipBlank(newlines: boolean): void {
    for (;;) {
      const char = this.text[this.#offset];
      if (char === ' ' || char === '\t' || (newlines && (char === '\n' || char === '\r'))) this.#offset++;
      else if (char === '#' && newlines) this.skipLine();
      else return;
    }
  }

  private skipLine(): void {
    const next = this.text.indexOf('\n', this.#offset);
    this.#offset = next === -1 ? this.text.length : next + 1;
  }

  private expect(char: string): void {
    this.skipBlank(false);
    if (this.text[this.#offset] !== char) throw new Error(`expected ${char}`);
    this.#offset++;
  }

  private position(): Position {
    let line = 0;
    while (line + 1 < this.#lineStarts.length && (this.#lineStarts[line + 1] ?? Infinity) <= this.#offset) line++;
    return { line: line + 1, column: this.#offset - (this.#lineStarts[line] ?? 0) + 1 };
  }
}
