// Where a project's engine keeps its socket, lock and state: a private per-user directory
// ($TEND_RUNTIME_DIR; else /run/tend for root, so a boot-time unit and an operator's shell
// agree; else /run/tend-<uid> if a boot unit made it; else $XDG_RUNTIME_DIR/tend, else
// /tmp/tend-<uid>), mode 0700 and owned by the user —
// checked, never trusted — with one subdirectory per config file (its path hashed).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TendError } from '../errors.js';
import { dirProblem } from '../lib/safe-dir.js';

export interface ProjectPaths {
  readonly dir: string;
  readonly socket: string;
  readonly state: string;
  readonly lock: string;
  readonly token: string;
  readonly engineLog: string;
  /** Stable id of the project: the config file's absolute path, hashed. */
  readonly id: string;
}

function runtimeBase(env: Readonly<Record<string, string | undefined>>): string {
  if (env.TEND_RUNTIME_DIR) return path.resolve(env.TEND_RUNTIME_DIR);
  const uid = process.getuid?.();
  if (uid === 0 && fs.existsSync('/run')) return '/run/tend';
  // The boot unit of `tend startup --user NAME` makes /run/tend-<uid>: the user's CLI finds it.
  if (uid !== undefined && fs.statSync(`/run/tend-${uid}`, { throwIfNoEntry: false })?.uid === uid) return `/run/tend-${uid}`;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'tend');
  return path.join(os.tmpdir(), `tend-${process.getuid?.() ?? 'user'}`);
}

export function projectPaths(configFile: string, env: Readonly<Record<string, string | undefined>>): ProjectPaths {
  const id = createHash('sha256').update(path.resolve(configFile)).digest('hex').slice(0, 16);
  const dir = path.join(runtimeBase(env), id);
  return {
    dir,
    id,
    socket: path.join(dir, 'engine.sock'),
    state: path.join(dir, 'state.json'),
    lock: path.join(dir, 'lock.sock'),
    token: path.join(dir, 'api.token'),
    engineLog: path.join(dir, 'engine.log'),
  };
}

/** Create (0700) or check the base and project directories: ours, and closed to others. */
export function ensurePrivateDir(paths: ProjectPaths): void {
  for (const dir of [path.dirname(paths.dir), paths.dir]) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new TendError('TEND_RUNTIME_DIR', `${dir}: ${(error as Error).message}`, { cause: error });
    }
    checkPrivate(dir);
  }
}

/**
 * The CLI's check before it talks to whatever listens there, creating nothing: 'missing' when
 * there is no runtime directory (nothing runs), else the directories are ours and closed to
 * others — or a TendError: a directory planted by someone else is never trusted.
 */
export function inspectPrivateDir(paths: ProjectPaths): 'missing' | 'ok' {
  for (const dir of [path.dirname(paths.dir), paths.dir]) {
    if (!fs.existsSync(dir)) return 'missing';
    checkPrivate(dir);
  }
  return 'ok';
}

/** A socket in the runtime directory is ours and 0600, or it is not talked to; false when there is none. */
export function isOwnSocket(file: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return false;
  }
  const uid = process.geteuid?.();
  if (!stat.isSocket()) throw new TendError('TEND_RUNTIME_DIR', `${file} is not a socket`);
  if (uid !== undefined && stat.uid !== uid)
    throw new TendError('TEND_RUNTIME_DIR', `${file} belongs to uid ${stat.uid}, not to you (${uid})`);
  if ((stat.mode & 0o077) !== 0)
    throw new TendError('TEND_RUNTIME_DIR', `${file} has mode ${(stat.mode & 0o777).toString(8)}; it must be 600`);
  return true;
}

function checkPrivate(dir: string): void {
  // The directories above must not let anyone else swap this one (see lib/safe-dir.ts).
  const problem = dirProblem(dir);
  if (problem !== null) throw new TendError('TEND_RUNTIME_DIR', problem.reason);
  const stat = fs.lstatSync(dir);
  // Someone else could plant a socket or read state in a group- or world-readable directory.
  if ((stat.mode & 0o077) !== 0)
    throw new TendError('TEND_RUNTIME_DIR', `${dir} has mode ${(stat.mode & 0o777).toString(8)}; it must be 700`);
}
