// What a reload does: planReload(running, next) compares two valid Configs service by service
// and says which to start, stop, restart, scale, update in place or keep. Pure: no I/O, no
// clock. The engine carries the plan out; this module never touches a process.
import { formatListen } from './listen.js';
import type { Config, ServiceConfig } from './schema.js';

/**
 * THE rule table: what a change to each ServiceConfig key asks of a running service. Typed over
 * every key, so a new key does not compile until someone decides here what changing it means.
 * - restart: what the process runs (argv from `command`, `cwd`, `env` with env_file merged in).
 * - update: how tend supervises it; applied in place, the processes keep running.
 * - scale: instances; running instances are untouched, the difference is added or removed.
 * - name: the identity services are matched by (a rename is a stop and a start).
 */
export const reloadRules = {
  name: 'name',
  argv: 'restart',
  shell: 'restart',
  cwd: 'restart',
  env: 'restart',
  runAs: 'restart',
  instances: 'scale',
  restart: 'update',
  backoff: 'update',
  start_limit: 'update',
  stop: 'update',
  logs: 'update',
  max_memory: 'update',
  min_uptime: 'update',
  dependsOn: 'update',
  readiness: 'update',
  liveness: 'update',
  startup: 'update',
  schedule: 'update',
  cronRestart: 'update',
  notify: 'update',
  watch: 'update',
  watchIgnore: 'update',
  incrementEnv: 'restart',
} as const satisfies Record<keyof ServiceConfig, 'name' | 'restart' | 'update' | 'scale'>;

type ReloadRule = (typeof reloadRules)[keyof typeof reloadRules];

/** The config file's name of each ServiceConfig key, for saying what changed. */
const fileKeys: Readonly<Record<keyof ServiceConfig, string>> = {
  name: 'name',
  argv: 'command',
  shell: 'command',
  cwd: 'cwd',
  env: 'env',
  runAs: 'user',
  instances: 'instances',
  restart: 'restart',
  backoff: 'backoff',
  start_limit: 'start_limit',
  stop: 'stop',
  logs: 'logs',
  max_memory: 'max_memory',
  min_uptime: 'min_uptime',
  dependsOn: 'depends_on',
  readiness: 'readiness',
  liveness: 'liveness',
  startup: 'startup',
  schedule: 'schedule',
  cronRestart: 'cron_restart',
  notify: 'notify',
  watch: 'watch',
  watchIgnore: 'watch_ignore',
  incrementEnv: 'increment_env',
};

/** The file keys that differ: "command", and for the small maps the key inside ("stop.timeout"). */
function changedKeys(old: ServiceConfig, next: ServiceConfig): string[] {
  const keys = new Set<string>();
  for (const key of Object.keys(fileKeys) as (keyof ServiceConfig)[]) {
    const [a, b]: unknown[] = [old[key], next[key]];
    if (isDeepEqual(a, b)) continue;
    const nested = ['backoff', 'start_limit', 'stop', 'logs'].includes(key) && isPlainObject(a) && isPlainObject(b);
    if (!nested) {
      keys.add(fileKeys[key]);
      continue;
    }
    for (const inner of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (!isDeepEqual(a[inner], b[inner])) keys.add(`${fileKeys[key]}.${inner}`);
  }
  return [...keys];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface ScaleChange {
  readonly service: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Service names, in the file order of `next` (then `stop`, in the order of `running`). A service
 * in both configs is in exactly one of keep, restart, or scale and/or update.
 */
export interface ReloadPlan {
  /** Only in next: start its instances. */
  readonly start: readonly string[];
  /** Only in running: stop its instances (an operator stop: no restart follows). */
  readonly stop: readonly string[];
  /** What it runs changed: restart its instances one at a time, with next's settings and count. */
  readonly restart: readonly string[];
  /** Only the count changed (maybe with update keys too): add or remove the difference. */
  readonly scale: readonly ScaleChange[];
  /** Only supervisor settings changed (maybe with scale too): swap them in, signal nothing. */
  readonly update: readonly string[];
  /** Nothing changed. */
  readonly keep: readonly string[];
  /** Plain sentences about top-level changes, for the person who reloaded. */
  readonly notes: readonly string[];
  /** Per restarted or updated service: the file keys that changed. */
  readonly changed: Readonly<Record<string, readonly string[]>>;
  /** The config in force once the plan is carried out: next, but with the api listener still running (it changes only with the engine). */
  readonly inForce: Config;
}

/** Compares by service name; both configs must be valid (from loadConfig). */
export function planReload(running: Config, next: Config): ReloadPlan {
  const before = new Map(running.services.map((service) => [service.name, service]));
  const after = new Set(next.services.map((service) => service.name));
  const plan = {
    start: [] as string[],
    restart: [] as string[],
    scale: [] as ScaleChange[],
    update: [] as string[],
    keep: [] as string[],
  };
  const changed: Record<string, string[]> = {};
  for (const service of next.services) {
    const old = before.get(service.name);
    if (old === undefined) {
      plan.start.push(service.name);
      continue;
    }
    const rules = changedRules(old, service);
    changed[service.name] = changedKeys(old, service);
    if (rules.size === 0) plan.keep.push(service.name);
    else if (rules.has('restart')) plan.restart.push(service.name);
    else {
      if (rules.has('scale')) plan.scale.push({ service: service.name, from: old.instances, to: service.instances });
      if (rules.has('update')) plan.update.push(service.name);
    }
  }
  const stop = running.services.map((service) => service.name).filter((name) => !after.has(name));
  return {
    ...plan,
    stop,
    changed,
    notes: topLevelNotes(running, next),
    inForce: { ...next, api: running.api },
  };
}

/** The kinds of change between two versions of one service (by the rule table). */
function changedRules(old: ServiceConfig, next: ServiceConfig): Set<ReloadRule> {
  const kinds = new Set<ReloadRule>();
  for (const key of Object.keys(reloadRules) as (keyof ServiceConfig)[]) {
    if (!isDeepEqual(old[key], next[key])) kinds.add(reloadRules[key]);
  }
  return kinds;
}

/**
 * Top-level keys on reload: log_dir applies (new files go to the new directory); api does not,
 * because the listener belongs to the engine process and the reload may be arriving over it.
 */
function topLevelNotes(running: Config, next: Config): string[] {
  const notes: string[] = [];
  if (running.logDir !== next.logDir) {
    notes.push(`log_dir changed: new files are written to ${next.logDir}; old ones stay in ${running.logDir}`);
  }
  const was = running.api === null ? null : formatListen(running.api);
  const now = next.api === null ? null : formatListen(next.api);
  const restartEngine = 'run `tend down && tend up -d` to apply it (this stops and starts every service)';
  if (was === now) return notes;
  if (was === null) notes.push(`api added: the TCP listener on ${now} opens only when the engine starts; ${restartEngine}`);
  else if (now === null) notes.push(`api removed: the TCP listener on ${was} stays open until the engine restarts; ${restartEngine}`);
  else notes.push(`api.listen changed from ${was} to ${now}: the listener stays on ${was} until the engine restarts; ${restartEngine}`);
  return notes;
}

/** Structural equality of config data (plain objects, arrays, primitives); an undefined property equals a missing one. */
export function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => isDeepEqual(item, b[index]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].every((key) => isDeepEqual(left[key], right[key]));
}
