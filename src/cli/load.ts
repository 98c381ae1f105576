// Loading the config for a verb: one place that turns diagnostics into the CLI's answer
// (every problem printed with its position, then exit 2 through TEND_CONFIG_INVALID).
// The config is loaded in a worker thread, so zod and yaml never stay in this process (a
// foreground `tend up` lives long); verbs that only talk to the engine never load them at all.
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import type { VerbInput } from './verb.js';

export async function loadOrExplain({ values, io }: VerbInput, { isCheck = false } = {}): Promise<Config> {
  const [{ loadConfigIsolated }, { formatDiagnostics }] = await Promise.all([import('../config/load-isolated.js'), import('../config/format.js')]);
  const file = typeof values.file === 'string' ? values.file : undefined;
  const result = await loadConfigIsolated({ file, cwd: io.cwd, env: { ...io.env } });
  if (result.ok) {
    if (result.warnings.length > 0) io.stderr.write(`${formatDiagnostics(result.warnings, { cwd: io.cwd })}\n`);
    return result.config;
  }
  io.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd: io.cwd })}\n`);
  const count = result.diagnostics.length;
  // `tend check` has just listed every problem; other verbs point to it.
  throw new TendError('TEND_CONFIG_INVALID', `${count} problem${count === 1 ? '' : 's'} in ${result.file}`, isCheck ? { hint: '' } : {});
}
