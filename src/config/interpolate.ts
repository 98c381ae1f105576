// ${VAR}, ${VAR:-default} and $$ in the string values of a config, from a given env object, as
// data: nothing goes through a shell, and a lone $ (as in "$HOME" for a shell command) is left
// alone. Runs on the parsed value before validation, so problems keep their key paths.
//
// A string command is the exception: it is shell code, so a value pasted into it would be
// parsed by /bin/sh and could run (`$(touch x)`). There the references stay as they are for the
// shell to expand — a parameter expansion never runs its value — and load.ts puts each
// referenced variable into the service's environment. Only `$$` becomes `$`.
import type { Problem } from './diagnostics.js';
import type { PathSegment } from './phrasing.js';

export type Env = Readonly<Record<string, string | undefined>>;

type Issue = Pick<Problem, 'code' | 'message' | 'hint'>;
export type Expansion = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly issues: readonly Issue[] };

/**
 * Walks a string: `$$` becomes `$`, every `${...}` goes to `reference` (its inside, and the
 * text the reference stood for), and the rest is copied. A `${` without its `}` is a problem.
 */
function substitute(text: string, issues: Issue[], reference: (inner: string, whole: string) => string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    const next = text[i + 1];
    if (char !== '$' || (next !== '$' && next !== '{')) {
      out += char;
      i++;
    } else if (next === '$') {
      out += '$';
      i += 2;
    } else {
      const close = text.indexOf('}', i + 2);
      if (close === -1) {
        issues.push({
          code: 'invalid-interpolation',
          message: `"\${" without a closing "}" in ${JSON.stringify(text)}`,
          hint: 'write $$ for a literal $',
        });
        break;
      }
      out += reference(text.slice(i + 2, close), text.slice(i, close + 1));
      i = close + 1;
    }
  }
  return out;
}

/**
 * Expands one string. ${VAR} must be set (an empty value counts as set); ${VAR:-default} falls
 * back when VAR is unset or empty, like sh and docker compose. Every problem is reported.
 */
export function interpolate(text: string, env: Env): Expansion {
  const issues: Issue[] = [];
  const value = substitute(text, issues, (inner) => expandReference(inner, env, issues));
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

/** A ${NAME} or ${NAME:-default} that a string command's shell will expand. */
export interface ShellReference {
  readonly name: string;
  readonly hasDefault: boolean;
}

/**
 * A string command as its shell gets it: `$$` → `$`, every ${...} left for the shell to expand
 * (checked to be a plain ${NAME} or ${NAME:-default}), and the names it refers to.
 */
export function shellCommand(text: string): {
  readonly text: string;
  readonly references: readonly ShellReference[];
  readonly issues: readonly Issue[];
} {
  const issues: Issue[] = [];
  const references: ShellReference[] = [];
  const out = substitute(text, issues, (inner, whole) => {
    const match = parseReference(inner, issues);
    if (match) references.push({ name: match.name, hasDefault: match.fallback !== undefined });
    return whole;
  });
  return { text: out, references, issues };
}

function parseReference(inner: string, issues: Issue[]): { name: string; fallback: string | undefined } | null {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(:-([\s\S]*))?$/.exec(inner);
  if (!match) {
    issues.push({
      code: 'invalid-interpolation',
      message: `bad variable reference "\${${inner}}"`,
      hint: 'write ${NAME} or ${NAME:-default} (and $$ for a literal $)',
    });
    return null;
  }
  return { name: match[1] ?? '', fallback: match[2] === undefined ? undefined : (match[3] ?? '') };
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'mksh', 'zsh']);

/**
 * Where an argv hands a script to a shell (`["sh", "-c", SCRIPT, ...]`, also `bash -lc`): that
 * element is shell code like a string command, so it is treated like one. -1 when there is none.
 */
export function shellScriptIndex(argv: readonly unknown[]): number {
  const program = typeof argv[0] === 'string' ? argv[0].slice(argv[0].lastIndexOf('/') + 1) : '';
  if (!SHELLS.has(program)) return -1;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (typeof arg !== 'string' || !arg.startsWith('-') || arg === '-' || arg === '--') return -1;
    if (!arg.startsWith('--') && arg.includes('c')) return i + 1 < argv.length ? i + 1 : -1;
  }
  return -1;
}

/** The problem of a ${NAME} with no value and no default. */
export const unsetVariable = (name: string): Issue => ({
  code: 'undefined-variable',
  message: `\${${name}} is not set`,
  hint: `set ${name} in the environment tend runs in, or give a default: \${${name}:-value}`,
});

function expandReference(inner: string, env: Env, issues: Issue[]): string {
  const match = parseReference(inner, issues);
  if (!match) return '';
  const value = env[match.name];
  if (match.fallback !== undefined) return value === undefined || value === '' ? match.fallback : value;
  if (value !== undefined) return value;
  issues.push(unsetVariable(match.name));
  return '';
}

type Json = Record<string, unknown>;
const isMap = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Expands the string settings of a parsed config — log_dir, api.listen, and per service: command (string or
 * each element), cwd, env values, env_file path(s), logs.file — and nothing else (a service
 * name or a restart policy is not a template). Returns a copy; the input is not changed.
 */
export function interpolateConfig(raw: unknown, env: Env): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!isMap(raw)) return { value: raw, problems };
  const expand = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      const result = interpolate(value, env);
      if (result.ok) return result.value;
      problems.push(...result.issues.map((issue) => ({ ...issue, path })));
      return value;
    }
    if (Array.isArray(value)) {
      // The script a shell is handed in an argv is left to that shell, as a string command is.
      const script = path.at(-1) === 'command' ? shellScriptIndex(value) : -1;
      return value.map((item, index) => (index === script ? item : expand(item, [...path, index])));
    }
    return value;
  };
  const root: Json = { ...raw };
  if ('log_dir' in root) root['log_dir'] = expand(root['log_dir'], ['log_dir']);
  const api = root['api'];
  if (isMap(api) && 'listen' in api) root['api'] = { ...api, listen: expand(api['listen'], ['api', 'listen']) };
  const services = root['services'];
  if (!isMap(services)) return { value: root, problems };
  const copied: Json = {};
  for (const [name, service] of Object.entries(services)) {
    copied[name] = isMap(service) ? expandService(service, ['services', name], expand) : service;
  }
  root['services'] = copied;
  return { value: root, problems };
}

function expandService(service: Json, path: PathSegment[], expand: (value: unknown, path: PathSegment[]) => unknown): Json {
  const out: Json = { ...service };
  // A string command is the shell's to expand (see the top); an argv is expanded here.
  for (const key of ['command', 'cwd', 'env_file'] as const) {
    if (key in out && !(key === 'command' && typeof out[key] === 'string')) out[key] = expand(out[key], [...path, key]);
  }
  const env = out['env'];
  if (isMap(env)) {
    out['env'] = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, expand(value, [...path, 'env', name])]));
  }
  const logs = out['logs'];
  if (isMap(logs) && 'file' in logs) out['logs'] = { ...logs, file: expand(logs['file'], [...path, 'logs', 'file']) };
  return out;
}
