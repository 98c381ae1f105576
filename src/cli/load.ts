// Loading the config for a verb: one place that turns diagnostics into the CLI's answer
// (every problem printed with its position, then exit 2 through TEND_CONFIG_INVALID).
// A process that lives on (foreground `tend up`, an engine) loads it in a worker thread, so zod
// and yaml never stay resident; a verb that exits right after (`check`, `up -d`) loads it in
// process, sparing the thread's start. Verbs that only talk to the engine never load them at all.
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import type { VerbInput } from './verb.js';

export async function loadOrExplain({ values, io }: VerbInput, { isCheck = false, shortLived = false } = {}): Promise<Config> {
  const { formatDiagnostics } = await import('../config/format.js');
  const file = typeof values.file === 'string' ? values.file : undefined;
  const options = { file, cwd: io.cwd, env: { ...io.env } };
  const result = shortLived
    ? (await import('../config/load.js')).loadConfig(options)
    : await (await import('../config/load-isolated.js')).loadConfigIsolated(options);
  if (result.ok) {
    if (result.warnings.length > 0) io.stderr.write(`${formatDiagnostics(result.warnings, { cwd: io.cwd })}\n`);
    return result.config;
  }
  io.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd: io.cwd })}\n`);
  const count = result.diagnostics.length;
  // `tend check` has just listed every problem; other verbs point to it.
  throw new TendError('TEND_CONFIG_INVALID', `${count} problem${count === 1 ? '' : 's'} in ${result.file}`, isCheck ? { hint: '' } : {});
}
