// How a verb reaches the project's engine: find the config file (without parsing it — `tend ps`
// must stay fast), derive the project's socket, and hand back an API client. Heavy modules are
// imported lazily so a status call loads only what it uses. When no engine answers but a keeper
// still holds services, the keeper is asked instead (its lock socket): `ps` shows what it holds
// and why the engine is down, `down` stops everything through it, and other verbs say so.
import { isTendError, TendError } from '../errors.js';
import type { KeeperStatus } from '../host/keeper-protocol.js';
import type { ProjectPaths } from '../runtime/runtime-dir.js';
import type { VerbInput } from './verb.js';

export async function connect({ values, io }: VerbInput) {
  const [{ findConfigFile }, { inspectPrivateDir, isOwnSocket, projectPaths }, { createClient }] = await Promise.all([
    import('../config/find.js'),
    import('../runtime/runtime-dir.js'),
    import('../api/client.js'),
  ]);
  const file = findConfigFile({ file: typeof values.file === 'string' ? values.file : undefined, cwd: io.cwd, env: io.env });
  const paths = projectPaths(file, io.env);
  // Whatever listens there is trusted only in directories of ours that nobody else can change;
  // nothing is created. A missing directory or socket: nothing runs (the client says so).
  if (inspectPrivateDir(paths) === 'ok') isOwnSocket(paths.socket);
  const client = createClient({ socketPath: paths.socket, configFile: file });
  return { client: withKeeperHint(client, paths), file, paths };
}

/** The keeper's status when a keeper holds the project but no engine answers; null otherwise. */
export async function askKeeper(paths: ProjectPaths, op: 'status' | 'down' = 'status'): Promise<KeeperStatus | null> {
  const [{ inspectPrivateDir, isOwnSocket }, { askLockHolder }] = await Promise.all([
    import('../runtime/runtime-dir.js'),
    import('../runtime/lock.js'),
  ]);
  if (inspectPrivateDir(paths) !== 'ok' || !isOwnSocket(paths.lock)) return null;
  const answer = (await askLockHolder(paths, { op })) as (KeeperStatus & { stopping?: boolean }) | null;
  return answer !== null && typeof answer.keeperPid === 'number' ? answer : null;
}

/** "no engine is running" says more when a keeper is there: what it holds, and how to stop it. */
function withKeeperHint<T extends object>(client: T, paths: ProjectPaths): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(client)) {
    wrapped[name] =
      typeof method !== 'function'
        ? method
        : async (...args: unknown[]) => {
            try {
              return await (method as (...a: unknown[]) => Promise<unknown>).apply(client, args);
            } catch (error) {
              if (!isTendError(error) || error.code !== 'TEND_NO_ENGINE') throw error;
              const keeper = await askKeeper(paths).catch(() => null);
              if (keeper === null) throw error;
              throw new TendError('TEND_NO_ENGINE', '', {
                message: `${error.message}, but its keeper (pid ${keeper.keeperPid}) holds ${keeper.units.length} service process${keeper.units.length === 1 ? '' : 'es'}${keeper.lastFailure ? `; the engine's last failure: ${keeper.lastFailure.reason}` : ''}`,
                hint: '`tend ps` shows them; `tend down` stops them all through the keeper',
              });
            }
          };
  }
  return wrapped as T;
}

/** The names a verb was given, or all with --all; neither is a usage error. */
export function namesOrAll(input: VerbInput, verb: string): { services: string[]; all: boolean } {
  const all = input.values.all === true;
  if (!all && input.positionals.length === 0) throw new TendError('TEND_USAGE', `name at least one service to ${verb}, or pass --all`);
  return { services: [...input.positionals], all };
}
