// File → validated, normalised Config, or every Diagnostic at once. Reads the config file and
// its env_files; never spawns, never touches process.env or the cwd of the process (the caller
// passes both), so a reload can validate freely and a rejected config changes nothing.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { TendError } from '../errors.js';
import { placeProblems, problemsFromIssues, sortDiagnostics, type Diagnostic, type Problem } from './diagnostics.js';
import { checkDependencies, dependenciesOf } from './dependencies.js';
import { parseEnvFile } from './env-file.js';
import { findGroup, findUser } from './accounts.js';
import { findConfigFile } from './find.js';
import { interpolateConfig, shellCommand, shellScriptIndex, unsetVariable, type Env } from './interpolate.js';
import { formatOf, parseConfigText } from './parse.js';
import { formatPath, type PathSegment } from './phrasing.js';
import { MAX_PROCESSES } from './limits.js';
import { parseListen } from './listen.js';
import {
  configSchema,
  diagnosticCodes,
  type Config,
  type ConfigSpec,
  type NotifyTarget,
  type Probe,
  type RunAs,
  type ServiceConfig,
  type ServiceSpec,
} from './schema.js';
import type { SourceMap } from './source-map.js';

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: Diagnostic[] }
  | { readonly ok: false; readonly file: string; readonly diagnostics: Diagnostic[] };

export interface LoadOptions {
  /** From -f; relative to cwd. */
  readonly file?: string | undefined;
  readonly cwd: string;
  /** Used for TEND_FILE and for ${VAR} interpolation only; it does not leak into services' env. */
  readonly env: Env;
}

/**
 * Finds, reads and validates the config. Throws a TendError only when there is no file to read
 * (TEND_CONFIG_NOT_FOUND, TEND_CONFIG_UNREADABLE); every problem inside the file is a Diagnostic.
 */
export function loadConfig(options: LoadOptions): LoadResult {
  const file = findConfigFile(options);
  let text: string;
  try {
    text = readBounded(file);
  } catch (error) {
    throw new TendError('TEND_CONFIG_UNREADABLE', `${file}: ${reasonOf(error)}`, { cause: error });
  }
  return loadConfigText({ text, file, env: options.env });
}

/** The same, for text already read; `file` (absolute) anchors relative paths and positions. */
export function loadConfigText({ text, file, env }: { text: string; file: string; env: Env }): LoadResult {
  const parsed = parseConfigText({ text: text.replace(/^\uFEFF/, ''), file, format: formatOf(file) });
  if (!parsed.syntaxOk) return { ok: false, file, diagnostics: sortDiagnostics(parsed.diagnostics, file) };
  const interpolated = interpolateConfig(withoutExtensions(parsed.value), env);
  const result = configSchema.safeParse(interpolated.value, { reportInput: true });
  const problems: Problem[] = [...interpolated.problems];
  // A value whose ${VAR} failed is reported once, for the variable, not again for its shape.
  const uninterpolated = new Set(interpolated.problems.map((problem) => formatPath(problem.path)));
  if (!result.success) {
    const found = problemsFromIssues(result.error.issues, configSchema, diagnosticCodes);
    problems.push(...found.filter((problem) => !uninterpolated.has(formatPath(problem.path))));
  }
  const diagnostics = [...parsed.diagnostics];
  const warnings: Problem[] = [];
  const ctx = { file, source: parsed.source, problems, warnings, diagnostics, env };
  // env_files are read even when the schema failed, so a missing one is reported with the rest.
  const envFiles = readAllEnvFiles(ctx, interpolated.value);
  let config: Config | undefined;
  if (result.success && problems.length === 0) config = normalise({ ...ctx, spec: result.data, envFiles });
  diagnostics.push(...placeProblems(problems, file, parsed.source));
  if (config === undefined || diagnostics.length > 0) return { ok: false, file, diagnostics: sortDiagnostics(diagnostics, file) };
  return { ok: true, config, warnings: sortDiagnostics(placeProblems(warnings, file, parsed.source), file) };
}

interface Context {
  readonly file: string;
  readonly source: SourceMap;
  /** Problems found here (env_file, log file clash) join the others. */
  readonly problems: Problem[];
  readonly warnings: Problem[];
  /** Problems inside env files carry their own file and position. */
  readonly diagnostics: Diagnostic[];
  /** The environment tend runs in: where ${VAR} finds its value. */
  readonly env: Env;
}

interface NormaliseContext extends Context {
  readonly spec: ConfigSpec;
  /** Variables from each service's env_file(s), by service name. */
  readonly envFiles: ReadonlyMap<string, Record<string, string>>;
}

function normalise(ctx: NormaliseContext): Config {
  const dir = nodePath.dirname(ctx.file);
  const logDir = nodePath.resolve(dir, ctx.spec.log_dir ?? '.tend/logs');
  const names = Object.keys(ctx.spec.services);
  // JS objects put integer-like keys ("1") first; the source map knows the order of the file.
  const order = [...ctx.source.keysOf(['services']).filter((name) => names.includes(name)), ...names];
  const services = [...new Set(order)].map((name) => {
    const spec = ctx.spec.services[name] as ServiceSpec;
    return normaliseService({ ctx, name, spec, dir, logDir });
  });
  if (services.length === 0) ctx.warnings.push({ path: ['services'], code: 'no-services', message: 'no services are defined' });
  const processes = services.reduce((sum, service) => sum + service.instances, 0);
  if (processes > MAX_PROCESSES) {
    ctx.problems.push({
      path: ['services'],
      code: 'too-many',
      message: `these services run ${processes} processes in all; tend runs at most ${MAX_PROCESSES}`,
    });
  }
  // A list names its dependencies as values (path …depends_on[i]), a map as keys (…depends_on.name).
  const pathOf = (name: string, dependency: string): PathSegment[] => {
    const given = ctx.spec.services[name]?.depends_on;
    const base = ['services', name, 'depends_on'];
    return Array.isArray(given) ? [...base, Math.max(0, given.indexOf(dependency))] : [...base, dependency];
  };
  ctx.problems.push(...checkDependencies(new Map(services.map((s) => [s.name, s.dependsOn])), pathOf));
  const owners = new Map<string, string>();
  for (const service of services) {
    const owner = owners.get(service.logs.file);
    const explicit = ctx.spec.services[service.name]?.logs.file !== undefined;
    if (owner !== undefined) {
      ctx.problems.push({
        path: ['services', service.name, ...(explicit ? ['logs', 'file'] : [])],
        code: 'log-file-conflict',
        message: `${service.logs.file} is already the log file of ${formatPath(['services', owner])}`,
      });
    } else owners.set(service.logs.file, service.name);
  }
  return { file: ctx.file, logDir, services, api: ctx.spec.api ?? null, notify: ctx.spec.notify.map(targetOf) };
}

function normaliseService(args: { ctx: NormaliseContext; name: string; spec: ServiceSpec; dir: string; logDir: string }): ServiceConfig {
  const { ctx, name, spec, dir, logDir } = args;
  const { command, logs } = spec;
  const cwd = nodePath.resolve(dir, spec.cwd ?? '.');
  if (spec.cwd !== undefined && !isDirectory(cwd)) {
    ctx.warnings.push({
      path: ['services', name, 'cwd'],
      code: 'missing-cwd',
      message: `${cwd} is not a directory (yet); starts fail until it is`,
    });
  }
  const env: Record<string, string> = { ...ctx.envFiles.get(name), ...spec.env };
  // Shell code (a string command, or the script of `sh -c` in an argv) expands its own ${VAR}.
  const scriptAt = typeof command === 'string' ? -1 : shellScriptIndex(command);
  const argv = typeof command === 'string' ? ['/bin/sh', '-c', shellScript(ctx, [name], command, env)] : [...command];
  if (scriptAt >= 0) argv[scriptAt] = shellScript(ctx, [name, scriptAt], argv[scriptAt] ?? '', env);
  return {
    name,
    argv,
    shell: typeof command === 'string',
    cwd,
    env,
    instances: spec.instances,
    restart: spec.restart,
    backoff: spec.backoff,
    start_limit: spec.start_limit,
    stop: spec.stop,
    max_memory: spec.max_memory,
    min_uptime: spec.min_uptime,
    schedule:
      spec.schedule === undefined
        ? null
        : typeof spec.schedule === 'string'
          ? { cron: spec.schedule, timezone: null, overlap: 'skip' }
          : { cron: spec.schedule.cron, timezone: spec.schedule.timezone ?? null, overlap: spec.schedule.overlap },
    cronRestart: spec.cron_restart ?? null,
    notify: spec.notify.map(targetOf),
    watch: spec.watch,
    watchIgnore: spec.watch_ignore,
    incrementEnv: incrementedOf(ctx, name, spec.increment_env, env),
    runAs: runAsOf(ctx, name, spec.user, spec.group),
    dependsOn: dependenciesOf(spec.depends_on),
    readiness: probeOf(spec.readiness),
    liveness: readinessOnly(ctx, name, 'liveness', spec.liveness) ? null : probeOf(spec.liveness),
    startup: readinessOnly(ctx, name, 'startup', spec.startup) ? null : probeOf(spec.startup),
    logs: {
      ...logs,
      file: logs.file === undefined ? nodePath.join(logDir, `${name}.log`) : nodePath.resolve(dir, logs.file),
      ...logGroup(ctx, name, logs.group),
    },
  };
}

/** increment_env: each name must be a variable of the service's env holding an integer. */
function incrementedOf(ctx: Context, name: string, given: ServiceSpec['increment_env'], env: Readonly<Record<string, string>>): string[] {
  const names = given === undefined ? [] : typeof given === 'string' ? [given] : given;
  for (const [index, variable] of names.entries()) {
    const value = env[variable];
    if (value !== undefined && /^\d{1,9}$/.test(value)) continue;
    ctx.problems.push({
      path: ['services', name, 'increment_env', ...(typeof given === 'string' ? [] : [index])],
      code: 'invalid-value',
      message:
        value === undefined
          ? `${variable} is not in this service's env: give it a number there (such as ${variable}: "3000")`
          : `${variable} is ${JSON.stringify(value)} in env, not a whole number`,
    });
  }
  return names;
}

/** A notify target as the engine uses it (the schema checked it has exec or webhook). */
function targetOf(spec: ConfigSpec['notify'][number]): NotifyTarget {
  if (spec.exec !== undefined) return { on: spec.on, timeout: spec.timeout, kind: 'exec', argv: spec.exec };
  return { on: spec.on, timeout: spec.timeout, kind: 'webhook', url: spec.webhook ?? '', headers: spec.headers, retries: spec.retries };
}

/**
 * A log line says a service is ready; it cannot say one still works. A notification fd says it
 * once per life, for readiness alone (a startup probe on it would only repeat readiness).
 */
function readinessOnly(ctx: Context, name: string, kind: 'liveness' | 'startup', probe: ServiceSpec['liveness']): boolean {
  if (probe?.fd !== undefined) {
    ctx.problems.push({
      path: ['services', name, kind, 'fd'],
      code: 'invalid-probe',
      message: `a notification fd says once that a service is ready: use it for readiness, not ${kind}`,
    });
    return true;
  }
  if (kind === 'startup' || probe?.log === undefined) return false;
  ctx.problems.push({
    path: ['services', name, 'liveness', 'log'],
    code: 'invalid-probe',
    message: 'a log probe says when a service is ready: use it for readiness or startup, not liveness',
  });
  return true;
}

/** A probe as the engine runs it (the schema checked its shape). */
function probeOf(spec: ServiceSpec['readiness' | 'liveness' | 'startup']): Probe | null {
  if (spec === undefined) return null;
  const timing = {
    initialDelay: spec.initial_delay,
    period: spec.period,
    timeout: spec.timeout,
    failureThreshold: spec.failure_threshold,
    successThreshold: spec.success_threshold,
  };
  if (spec.exec !== undefined) return { kind: 'exec', argv: spec.exec, ...timing };
  if (spec.log !== undefined) return { kind: 'log', pattern: spec.log, ...timing };
  if (spec.fd !== undefined) return { kind: 'fd', fd: spec.fd, ...timing };
  if (spec.http !== undefined) {
    const [low = 200, high = low] = spec.status.split('-').map(Number);
    return { kind: 'http', url: spec.http, status: [low, high], headers: spec.headers, ...timing };
  }
  const address = parseListen(spec.tcp ?? '');
  return { kind: 'tcp', host: address.ok ? address.address.host : '127.0.0.1', port: address.ok ? address.address.port : 0, ...timing };
}

/**
 * A string command for /bin/sh: its ${VAR} references are left for the shell to expand, so no
 * value is ever parsed as shell code, and each variable it names is given to the service — from
 * its env or env_file, else from tend's environment (added to `env`, so the shell finds it even
 * where tend would not pass it on). A reference with no value and no default is a problem.
 */
function shellScript(ctx: NormaliseContext, [name, index]: [string, number?], command: string, env: Record<string, string>): string {
  const path: PathSegment[] = ['services', name, 'command', ...(index === undefined ? [] : [index])];
  const script = shellCommand(command);
  for (const issue of script.issues) ctx.problems.push({ ...issue, path });
  for (const { name: variable, hasDefault } of script.references) {
    if (variable in env) continue;
    const value = ctx.env[variable];
    if (value !== undefined) env[variable] = value;
    else if (!hasDefault) ctx.problems.push({ ...unsetVariable(variable), path });
  }
  return script.text;
}

/**
 * Who the service runs as. Another user (or group) needs tend to be root: a process can only
 * give away privileges it has. Names come from /etc/passwd and /etc/group; numbers stand alone.
 */
function runAsOf(ctx: Context, name: string, user: string | number | undefined, group: string | number | undefined): RunAs | null {
  if (user === undefined && group === undefined) return null;
  const base = ['services', name];
  const euid = process.geteuid?.() ?? 0;
  const account = user === undefined ? findUser(euid) : findUser(user);
  if (account === null) {
    ctx.problems.push({
      path: [...base, 'user'],
      code: 'unknown-user',
      message: `there is no user named ${JSON.stringify(user)} in /etc/passwd`,
      hint: 'give the uid instead if the account comes from a directory service',
    });
    return null;
  }
  const primary = group === undefined ? { gid: account.gid } : findGroup(group);
  if (primary === null) {
    ctx.problems.push({
      path: [...base, 'group'],
      code: 'unknown-group',
      message: `there is no group named ${JSON.stringify(group)} in /etc/group`,
    });
    return null;
  }
  const runAs: RunAs = { uid: account.uid, gid: primary.gid, name: account.name, home: account.home, known: account.known };
  const foreign = runAs.uid !== euid || runAs.gid !== (process.getegid?.() ?? 0);
  if (foreign && euid !== 0) {
    const key = user !== undefined && runAs.uid !== euid ? 'user' : 'group';
    ctx.problems.push({
      path: [...base, key],
      code: 'needs-root',
      message: `tend runs as uid ${euid}: only root can run a service as another ${key === 'user' ? 'user' : 'group'}`,
      hint: "leave it out to run the service as tend's own user, or run tend as root",
    });
  }
  return runAs;
}

/** The gid of `logs.group`, which tend must be able to give its files (root, or a member). */
function logGroup(ctx: Context, name: string, group: string | number | undefined): { gid?: number } {
  if (group === undefined) return {};
  const path = ['services', name, 'logs', 'group'];
  const found = findGroup(group);
  if (found === null) {
    ctx.problems.push({ path, code: 'unknown-group', message: `there is no group named ${JSON.stringify(group)} in /etc/group` });
    return {};
  }
  const mine = process.getegid?.() === found.gid || process.geteuid?.() === 0 || (process.getgroups?.() ?? []).includes(found.gid);
  if (!mine)
    ctx.problems.push({
      path,
      code: 'foreign-group',
      message: `tend runs as uid ${process.geteuid?.()}, which is not in group ${found.name}: it cannot give the log files that group`,
    });
  return { gid: found.gid };
}

/** Each service's env_file(s), merged in order, from the raw value (whatever else is wrong in it). */
function readAllEnvFiles(ctx: Context, raw: unknown): Map<string, Record<string, string>> {
  const byService = new Map<string, Record<string, string>>();
  const services = isMap(raw) ? raw['services'] : undefined;
  if (!isMap(services)) return byService;
  for (const [name, service] of Object.entries(services)) {
    const envFile = isMap(service) ? service['env_file'] : undefined;
    const path: PathSegment[] = ['services', name, 'env_file'];
    const entries: [unknown, PathSegment[]][] = Array.isArray(envFile)
      ? envFile.map((item, index) => [item, [...path, index]])
      : [[envFile, path]];
    byService.set(name, readEnvFiles(ctx, entries));
  }
  return byService;
}

/** Merged in order; a file that cannot be read is a problem on its env_file key. */
function readEnvFiles(ctx: Context, entries: readonly [unknown, PathSegment[]][]): Record<string, string> {
  const dir = nodePath.dirname(ctx.file);
  const merged: Record<string, string> = {};
  for (const [relative, path] of entries) {
    if (typeof relative !== 'string' || relative === '') continue; // the schema reports it
    const absolute = nodePath.resolve(dir, relative);
    let text: string;
    try {
      text = readBounded(absolute);
    } catch (error) {
      ctx.problems.push({
        path,
        code: 'env-file',
        message: `cannot read ${JSON.stringify(relative)}: ${reasonOf(error)}`,
        hint: `env_file paths are relative to the config file's directory (${dir})`,
      });
      continue;
    }
    const parsed = parseEnvFile(text);
    for (const problem of parsed.problems)
      ctx.diagnostics.push({ file: absolute, line: problem.line, column: problem.column, code: 'env-file', message: problem.message });
    Object.assign(merged, parsed.vars);
  }
  return merged;
}

/** Top-level keys starting with "x-" are the user's own (YAML anchors to merge from), as in compose. */
function withoutExtensions(value: unknown): unknown {
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('x-')));
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A config or env file is read whole, but never more than MAX_FILE_BYTES: a bigger one is refused. */
export const MAX_FILE_BYTES = 1024 * 1024;

function readBounded(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (stat.size > MAX_FILE_BYTES) throw new Error(`it is ${stat.size} bytes; tend reads at most ${MAX_FILE_BYTES} (1 MiB)`);
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= MAX_FILE_BYTES; length += read)
      read = fs.readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_FILE_BYTES) throw new Error(`it is larger than ${MAX_FILE_BYTES} bytes (1 MiB), the most tend reads`);
    return buffer.toString('utf8', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
