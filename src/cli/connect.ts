// How a verb reaches the project's engine: find the config file (without parsing it — `tend ps`
// must stay fast), derive the project's socket, and hand back an API client. Heavy modules are
// imported lazily so a status call loads only what it uses.
import { TendError } from '../errors.js';
import type { VerbInput } from './verb.js';

export async function connect({ values, io }: VerbInput) {
  const [{ findConfigFile }, { projectPaths }, { createClient }] = await Promise.all([
    import('../config/find.js'),
    import('../runtime/runtime-dir.js'),
    import('../api/client.js'),
  ]);
  const file = findConfigFile({ file: typeof values.file === 'string' ? values.file : undefined, cwd: io.cwd, env: io.env });
  const paths = projectPaths(file, io.env);
  return { client: createClient({ socketPath: paths.socket, configFile: file }), file, paths };
}

/** The names a verb was given, or all with --all; neither is a usage error. */
export function namesOrAll(input: VerbInput, verb: string): { services: string[]; all: boolean } {
  const all = input.values.all === true;
  if (!all && input.positionals.length === 0) throw new TendError('TEND_USAGE', `name at least one service to ${verb}, or pass --all`);
  return { services: [...input.positionals], all };
}
