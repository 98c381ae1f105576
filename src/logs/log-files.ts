// Opening log and event files, for the writer (file-sink, events-file, compressor) and the
// readers (rotation-chain): every directory they live in is checked once per process to be safe
// from other users (lib/safe-dir.ts) — tend may run as root beside them — and every file is
// opened without following links, as a plain file of ours (lib/own-file.ts). Private by default
// (files 0600, directories 0700); a service's `logs.mode`/`logs.group` widen read access only.
import fs from 'node:fs';
import path from 'node:path';
import { TendError } from '../errors.js';
import { openOwnFile, type OpenHow } from '../lib/own-file.js';
import { dirProblem, type DirProblem } from '../lib/safe-dir.js';

/** Who may read a log file: its mode (0600, 0640 or 0644) and group (gid; absent: ours). */
export interface LogAccess {
  readonly mode: number;
  readonly gid?: number | undefined;
}

export const privateAccess: LogAccess = { mode: 0o600 };

const checked = new Set<string>();

/** Directories get search and list rights for whoever may read the files: 0700, 0750 or 0755. */
const dirModeOf = (mode: number): number => 0o700 | (mode & 0o040 ? 0o050 : 0) | (mode & 0o004 ? 0o005 : 0);

/** Creates the directory if missing (private unless widened) and checks it is safe; once per process. */
export function prepareLogDir(dir: string, access: LogAccess = privateAccess): void {
  const resolved = path.resolve(dir);
  if (checked.has(resolved)) return;
  // Judged before anything is created in a place that is not ours, and again once it exists.
  const before = dirProblem(resolved, { ifMissing: true });
  if (before?.kind === 'unsafe') throw refusedDir(resolved, before);
  try {
    fs.mkdirSync(resolved, { recursive: true, mode: dirModeOf(access.mode) });
  } catch (error) {
    throw new TendError('TEND_LOG_DIR', `creating ${resolved}: ${reasonOf(error)}`, { cause: error });
  }
  const after = dirProblem(resolved);
  if (after !== null) throw refusedDir(resolved, after);
  checked.add(resolved);
}

/** Every directory the config's logs go to (log_dir and each service's file), for a check up front. */
export function logDirsOf(config: {
  readonly logDir: string;
  readonly services: readonly { readonly logs: { readonly file: string; readonly mode?: number | undefined } }[];
}): Array<{ dir: string; access: LogAccess }> {
  const dirs = new Map<string, LogAccess>([[path.resolve(config.logDir), privateAccess]]);
  for (const { logs } of config.services) {
    const dir = path.dirname(path.resolve(logs.file));
    const mode = Math.max(dirs.get(dir)?.mode ?? 0o600, logs.mode ?? 0o600);
    dirs.set(dir, { mode });
  }
  return [...dirs].map(([dir, access]) => ({ dir, access }));
}

/** Without creating anything (`tend check`): the error a log directory would be refused with, or null. */
export function inspectLogDir(dir: string): TendError | null {
  const problem = dirProblem(dir, { ifMissing: true });
  return problem === null ? null : refusedDir(path.resolve(dir), problem);
}

const refusedDir = (dir: string, { kind, reason }: DirProblem): TendError =>
  new TendError(kind === 'unsafe' ? 'TEND_LOG_DIR_UNSAFE' : 'TEND_LOG_DIR', `${dir}: ${reason}`);

/** Opens a log file to write (its directory prepared first), with the access it should have. */
export function openLogFile(file: string, how: Exclude<OpenHow, 'read'>, access: LogAccess = privateAccess): number {
  prepareLogDir(path.dirname(file), access);
  let fd: number;
  try {
    fd = openOwnFile(file, how, access.mode);
  } catch (error) {
    throw refusal(`opening ${file}`, error);
  }
  try {
    // Also tightens a file an older tend left 0644; the group only where it was asked for.
    fs.fchmodSync(fd, access.mode);
    if (access.gid !== undefined) fs.fchownSync(fd, -1, access.gid);
  } catch (error) {
    fs.closeSync(fd);
    throw refusal(`setting the access of ${file}`, error);
  }
  return fd;
}

/** Opens a log file to read it back; null when there is none. A link or a foreign file is refused. */
export function openLogForReading(file: string): number | null {
  try {
    return openOwnFile(file, 'read');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw refusal(`reading ${file}`, error);
  }
}

function refusal(what: string, error: unknown): TendError {
  if (error instanceof TendError) return error;
  const code = (error as NodeJS.ErrnoException).code === 'EUNSAFE' ? 'TEND_LOG_DIR_UNSAFE' : 'TEND_LOG_DIR';
  return new TendError(code, `${what}: ${reasonOf(error)}`, { cause: error });
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
