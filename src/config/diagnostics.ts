// Config problems as data: the Diagnostic shape, turning zod issues into positioned sentences
// ("what, expected, got, did you mean"), sorting and formatting. Never throws for a bad config:
// every problem becomes one Diagnostic and all of them are reported together.
import type { z as Z } from 'zod';
import { z } from './zod.js';
import { describeValue, didYouMean, formatPath, listOr, suggestion, type PathSegment } from './phrasing.js';
import { foreignKey } from './foreign-keys.js';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Maps a key path to where it is written: its key, or its value. parse.ts builds one per file. */
export interface Locator {
  locate(path: readonly PathSegment[], part: 'key' | 'value'): Position;
}

/** A problem found on the data, before it has a position: `path` names it, `at` places it. */
export interface Problem {
  readonly path: readonly PathSegment[];
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly at?: { readonly path: readonly PathSegment[]; readonly part: 'key' | 'value' };
  /** For an unknown key: the allowed key it is probably a typo of. */
  readonly suggested?: string;
}

/** "services.web.restart: expected ..." placed on the offending key or value of `file`. */
export function placeProblems(problems: readonly Problem[], file: string, locator: Locator): Diagnostic[] {
  return problems.map((problem) => {
    const at = problem.at ?? { path: problem.path, part: 'value' as const };
    const { line, column } = locator.locate(at.path, at.part);
    const prefix = problem.path.length > 0 ? `${formatPath(problem.path)}: ` : '';
    const diagnostic = { file, line, column, code: problem.code, message: prefix + problem.message };
    return problem.hint === undefined ? diagnostic : { ...diagnostic, hint: problem.hint };
  });
}

/** `services: duplicate service name "web" (first defined on line 2)`, on the second one. */
export function duplicateKey(file: string, path: readonly PathSegment[], name: string, at: Position, firstLine: number): Diagnostic {
  const what = path.length === 1 && path[0] === 'services' ? 'service name' : 'key';
  const prefix = path.length > 0 ? `${formatPath(path)}: ` : '';
  return {
    file,
    ...at,
    code: 'duplicate-key',
    message: `${prefix}duplicate ${what} ${JSON.stringify(name)} (first defined on line ${firstLine})`,
  };
}

/** zod issues (from safeParse with reportInput) → Problems, one per unknown key. */
export function problemsFromIssues(
  issues: readonly Z.core.$ZodIssue[],
  schema: Z.ZodType,
  codes?: Z.core.$ZodRegistry<{ code: string }>,
): Problem[] {
  // A schema registered in `codes` names the code of every problem with its value.
  const recode = (p: Problem): Problem => {
    const code = p.code === 'invalid-type' || p.code === 'invalid-value' ? codeAt(schema, p.path, codes) : undefined;
    return code === undefined ? p : { ...p, code };
  };
  const problems = issues.flatMap((issue) => fromIssue(issue, [], schema)).map(recode);
  // "comand" suggested as "command" already explains why "command" is missing: say it once.
  const explained = new Set(
    problems.flatMap((p) => (p.code === 'unknown-key' && p.suggested !== undefined ? [formatPath([...p.path, p.suggested])] : [])),
  );
  return problems.filter((p) => !(p.code === 'missing-key' && p.at !== undefined && explained.has(formatPath(p.at.path))));
}

/** A key from another tool: tend's name for it (a did-you-mean), or why tend has none. */
function foreignProblem(path: readonly PathSegment[], key: string, foreign: NonNullable<ReturnType<typeof foreignKey>>): Problem {
  const at = { path: [...path, key], part: 'key' as const };
  if (foreign.tend === null)
    return { path, code: 'unknown-key', message: `unknown key ${JSON.stringify(key)}`, at, hint: foreign.note ?? '' };
  const top = foreign.tend.split('.')[0] ?? foreign.tend;
  return {
    path,
    code: 'unknown-key',
    message: `unknown key ${JSON.stringify(key)} (did you mean ${JSON.stringify(foreign.tend)}?)`,
    at,
    hint: `${key} is ${foreign.from}'s name for tend's ${foreign.tend}${foreign.note === undefined ? '' : `: ${foreign.note}`}`,
    ...(top === foreign.tend ? { suggested: top } : {}),
  };
}

function fromIssue(issue: Z.core.$ZodIssue, prefix: readonly PathSegment[], schema: Z.ZodType): Problem[] {
  const path = [...prefix, ...issue.path.map(toSegment)];
  const input: unknown = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(schema, path);
      const scope = path.length === 0 ? 'top' : path.length === 2 && path[0] === 'services' ? 'service' : null;
      return issue.keys.map((key) => {
        const suggested = didYouMean(key, allowed);
        const foreign = suggested === undefined && scope !== null ? foreignKey(key, scope) : undefined;
        if (foreign !== undefined) return foreignProblem(path, key, foreign);
        return {
          path,
          code: 'unknown-key',
          message: `unknown key ${JSON.stringify(key)}${suggestion(key, allowed)}`,
          at: { path: [...path, key], part: 'key' as const },
          ...(suggested !== undefined ? { suggested } : allowed.length > 0 ? { hint: `allowed here: ${allowed.join(', ')}` } : {}),
        };
      });
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      return [{ path: path.slice(0, -1), code: 'invalid-name', message: inner?.message ?? issue.message, at: { path, part: 'key' } }];
    }
    case 'invalid_value': {
      if (input === undefined) return [missing(path)];
      const values = issue.values.map(String);
      return [
        { path, code: 'invalid-value', message: `expected ${listOr(values)}, got ${describeValue(input)}${suggestion(input, values)}` },
      ];
    }
    case 'invalid_union': {
      if (input === undefined) return [missing(path)];
      // A branch whose problems are all deeper down matched the shape (a list with a bad element):
      // explain those. Otherwise the union's own "expected X, got Y" message says it best.
      const branch = issue.errors.find((errors) => errors.length > 0 && errors.every((e) => e.path.length > 0));
      if (branch !== undefined) return branch.flatMap((e) => fromIssue(e, path, schema));
      return [{ path, code: 'invalid-type', message: issue.message }];
    }
    case 'invalid_type':
      return [input === undefined ? missing(path) : { path, code: 'invalid-type', message: issue.message }];
    case 'custom': {
      const code = typeof issue.params?.['code'] === 'string' ? issue.params['code'] : 'invalid-value';
      return [{ path, code, message: issue.message }];
    }
    default:
      return [{ path, code: 'invalid-value', message: issue.message }];
  }
}

function missing(path: readonly PathSegment[]): Problem {
  const key = path[path.length - 1];
  return {
    path: path.slice(0, -1),
    code: 'missing-key',
    message: `missing required key ${JSON.stringify(String(key))}`,
    at: { path, part: 'key' },
  };
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === 'number' ? key : String(key);
}

/** The keys an object in `schema` allows at `path` (through records, wrappers and pipes). */
function keysAt(schema: Z.ZodType, path: readonly PathSegment[]): string[] {
  const object = unwrapped(schemaAt(schema, path)).find((node) => node instanceof z.ZodObject);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function codeAt(schema: Z.ZodType, path: readonly PathSegment[], codes?: Z.core.$ZodRegistry<{ code: string }>): string | undefined {
  if (codes === undefined) return undefined;
  for (const node of unwrapped(schemaAt(schema, path))) {
    const entry = codes.get(node);
    if (entry !== undefined) return entry.code;
  }
  return undefined;
}

/** The schema that validates the value at `path`, or undefined where the schema has no such place. */
function schemaAt(schema: Z.core.$ZodType, path: readonly PathSegment[]): Z.core.$ZodType | undefined {
  let node: Z.core.$ZodType | undefined = schema;
  for (const segment of path) {
    const container: Z.core.$ZodType | undefined = unwrapped(node).find(
      (n) => n instanceof z.ZodObject || n instanceof z.ZodRecord || n instanceof z.ZodArray,
    );
    if (container instanceof z.ZodObject) node = container.shape[String(segment)];
    else if (container instanceof z.ZodRecord) node = container.valueType;
    else if (container instanceof z.ZodArray) node = container.element;
    else return undefined;
  }
  return node;
}

/** A schema and what it wraps: default, prefault, optional... and the input side of a pipe. */
function unwrapped(node: Z.core.$ZodType | undefined): Z.core.$ZodType[] {
  const chain: Z.core.$ZodType[] = [];
  while (node !== undefined && chain.length < 16) {
    chain.push(node);
    const def: Z.core.$ZodTypeDef = node._zod.def;
    if (node instanceof z.ZodPipe) node = node.in;
    else if ('innerType' in def && def.innerType instanceof z.ZodType) node = def.innerType;
    else node = undefined;
  }
  return chain;
}

/** Problems in the config file first, then others (env files); within a file by position. */
export function sortDiagnostics(list: readonly Diagnostic[], mainFile?: string): Diagnostic[] {
  const rank = (d: Diagnostic) => (d.file === mainFile ? 0 : 1);
  return [...list].sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

export { formatDiagnostic } from './format.js';
