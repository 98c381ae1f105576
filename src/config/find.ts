// Which config file to read: an explicit -f path, else $TEND_FILE, else the nearest tend.yaml,
// tend.yml, tend.json or tend.toml walking up from the working directory. Reads only the file
// system's directory entries; never the files themselves.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { TendError } from '../errors.js';

/** Looked for in this order in each directory; the nearest directory wins over the order. */
const configFileNames = ['tend.yaml', 'tend.yml', 'tend.json', 'tend.toml'] as const;

export interface FindOptions {
  /** From -f; relative to cwd. */
  readonly file?: string | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The absolute path of the config file, or a TendError (not found / explicit path unusable). */
export function findConfigFile({ file, cwd, env }: FindOptions): string {
  const explicit = file ?? (env['TEND_FILE'] === '' ? undefined : env['TEND_FILE']);
  if (explicit !== undefined) return checkExplicit(nodePath.resolve(cwd, explicit), file === undefined ? ' (from TEND_FILE)' : '');
  let dir = nodePath.resolve(cwd);
  for (;;) {
    for (const name of configFileNames) {
      const candidate = nodePath.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = nodePath.dirname(dir);
    if (parent === dir) throw new TendError('TEND_CONFIG_NOT_FOUND', nodePath.resolve(cwd));
    dir = parent;
  }
}

function checkExplicit(path: string, origin: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new TendError('TEND_CONFIG_UNREADABLE', `${path}${origin} ${why}`, { cause: error });
  }
  if (!stat.isFile()) throw new TendError('TEND_CONFIG_UNREADABLE', `${path}${origin} is not a file`);
  return path;
}

function isFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}
