// Config text → plain JS value + a SourceMap (key path → line:column), for YAML, JSON and TOML.
// YAML and JSON both go through the `yaml` package (JSON is YAML 1.2 flow), whose node ranges
// give positions. Syntax errors and duplicate keys come back as Diagnostics, never exceptions.
import * as nodePath from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type ParsedNode } from 'yaml';
import { duplicateKey, type Diagnostic, type Position } from './diagnostics.js';
import { parseToml } from './parse-toml.js';
import type { PathSegment } from './phrasing.js';
import { SourceMap } from './source-map.js';

export type Format = 'yaml' | 'json' | 'toml';

export interface ParsedConfig {
  /** The data; meaningless when `syntaxOk` is false. */
  readonly value: unknown;
  readonly source: SourceMap;
  /** Syntax errors (then `syntaxOk` is false) and duplicate keys. */
  readonly diagnostics: readonly Diagnostic[];
  readonly syntaxOk: boolean;
}

/** By extension; anything unknown is read as YAML, which also accepts JSON. */
export function formatOf(file: string): Format {
  const ext = nodePath.extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.toml' ? 'toml' : 'yaml';
}

export function parseConfigText({ text, file, format }: { text: string; file: string; format: Format }): ParsedConfig {
  return format === 'toml' ? parseToml({ text, file }) : parseYaml({ text, file, format });
}

function parseYaml({ text, file, format }: { text: string; file: string; format: Format }): ParsedConfig {
  const lines = new LineCounter();
  // uniqueKeys off: duplicates are found below with both positions and a better sentence.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: true });
  const at = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const syntax = (position: Position, message: string): Diagnostic => ({
    file,
    ...position,
    code: 'syntax',
    message: `syntax error: ${lowerFirst(message)}`,
  });
  const diagnostics: Diagnostic[] = [];
  const jsonError = format === 'json' ? strictJsonError(text) : undefined;
  if (jsonError !== undefined) {
    // JSON.parse is the judge of JSON (yaml would accept trailing commas and comments).
    diagnostics.push(syntax(at(jsonError.offset), jsonError.message));
  } else {
    // Only the first: after one YAML syntax error the rest usually cascade from it (a single
    // unbalanced "{" yields one error per following token), and the noise hides the cause.
    const [first] = doc.errors;
    if (first !== undefined) diagnostics.push(withFlowHint(text, syntax(at(first.pos[0]), first.message)));
  }
  const source = new SourceMap();
  source.add([], { line: 1, column: 1 }, doc.contents?.range ? at(doc.contents.range[0]) : { line: 1, column: 1 });
  indexNode(doc.contents, [], { source, at, file, diagnostics });
  if (diagnostics.some((d) => d.code === 'syntax')) return { value: undefined, source, diagnostics, syntaxOk: false };
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), source, diagnostics, syntaxOk: true };
  } catch (error) {
    // Only alias bombs and similar reach here; the document itself parsed.
    diagnostics.push(syntax({ line: 1, column: 1 }, error instanceof Error ? error.message : String(error)));
    return { value: undefined, source, diagnostics, syntaxOk: false };
  }
}

/** `env: { PORT: ${PORT} }` is a YAML error (the "{" opens a map): say so, the parser cannot. */
function withFlowHint(text: string, diagnostic: Diagnostic): Diagnostic {
  const line = text.split('\n')[diagnostic.line - 1] ?? '';
  const reference = line.indexOf('${');
  if (reference === -1 || !/[[{]/.test(line.slice(0, reference))) return diagnostic;
  return { ...diagnostic, hint: 'inside [ ] or { }, quote a value that holds ${...}: "${VAR}"' };
}

interface IndexContext {
  readonly source: SourceMap;
  readonly at: (offset: number) => Position;
  readonly file: string;
  readonly diagnostics: Diagnostic[];
}

function indexNode(node: ParsedNode | Node | null | undefined, path: PathSegment[], ctx: IndexContext): void {
  if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const start = (item as Node | null)?.range?.[0];
      if (start === undefined) return;
      ctx.source.add([...path, index], ctx.at(start));
      indexNode(item as Node, [...path, index], ctx);
    });
    return;
  }
  if (!isMap(node)) return;
  const firstLine = new Map<string, number>();
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || key.range === undefined || key.range === null) continue;
    const name = String(key.value);
    if (name === '<<') continue; // a merge key: its keys have no place of their own
    const keyAt = ctx.at(key.range[0]);
    const value = pair.value as Node | null;
    const valueAt = value?.range && value.range[0] < value.range[1] ? ctx.at(value.range[0]) : keyAt;
    const seen = firstLine.get(name);
    if (seen !== undefined) ctx.diagnostics.push(duplicateKey(ctx.file, path, name, keyAt, seen));
    else firstLine.set(name, keyAt.line);
    if (seen === undefined) ctx.source.add([...path, name], keyAt, valueAt);
    else ctx.source.replace([...path, name], keyAt, valueAt);
    indexNode(value, [...path, name], ctx);
  }
}

/** JSON.parse's complaint and its offset: "at position N" (Node 20), "(line L column C)" (later), or found. */
function strictJsonError(text: string): { message: string; offset: number } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const message = raw
      .replace(/^(Unexpected token '.+?'), [\s\S]*$/, '$1')
      .replace(/ in JSON[\s\S]*$/, '')
      .replace(/\s*\(line \d+ column \d+\)/, '');
    const position = /at position (\d+)/.exec(raw);
    const lineColumn = /\(line (\d+) column (\d+)\)/.exec(raw);
    const offset = position
      ? Number(position[1])
      : lineColumn
        ? offsetOf(text, Number(lineColumn[1]), Number(lineColumn[2]))
        : /Unexpected end/.test(raw)
          ? text.length
          : firstBadOffset(text);
    return explainJsonError(text, message, offset);
  }
}

/** Two cases JSON.parse words poorly: a bare word ("unexpected token 'o'" for node) and an early end. */
function explainJsonError(text: string, message: string, offset: number): { message: string; offset: number } {
  const end = text.trimEnd().length;
  if (offset >= end)
    return {
      message: `unexpected end of file (${lowerFirst(message).replace(/^unexpected end of JSON input$/, 'a value is not finished')})`,
      offset: end,
    };
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_.-]/.test(text[start - 1] ?? '')) start--;
  const word = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(start))?.[0];
  if (word !== undefined && /^Unexpected token/.test(message)) {
    return { message: `unexpected word ${word} (a string needs "double quotes")`, offset: start };
  }
  return { message, offset };
}

/**
 * Node 20 names some bad tokens without an offset ("Unexpected token 'x', ..."). A prefix of the
 * text fails only by ending early until it includes the bad character, so bisect on that.
 */
function firstBadOffset(text: string): number {
  const failsBeforeEnd = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      const position = /at position (\d+)/.exec(message);
      return !/Unexpected end/.test(message) && (position === null || Number(position[1]) < length);
    }
  };
  let low = 1;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (failsBeforeEnd(middle)) high = middle;
    else low = middle + 1;
  }
  return low - 1;
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let current = 1; current < line; current++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

function lowerFirst(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.charAt(0).toLowerCase() + first.slice(1);
}
