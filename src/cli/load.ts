// Loading the config for a verb: one place that turns diagnostics into the CLI's answer
// (every problem printed with its position, then exit 2 through TEND_CONFIG_INVALID).
import type { Config } from '../config/schema.js';
import { formatDiagnostics } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { TendError } from '../errors.js';
import type { VerbInput } from './verb.js';

export function loadOrExplain({ values, io }: VerbInput, { isCheck = false } = {}): Config {
  const file = typeof values.file === 'string' ? values.file : undefined;
  const result = loadConfig({ file, cwd: io.cwd, env: io.env });
  if (result.ok) {
    if (result.warnings.length > 0) io.stderr.write(`${formatDiagnostics(result.warnings, { cwd: io.cwd })}\n`);
    return result.config;
  }
  io.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd: io.cwd })}\n`);
  const count = result.diagnostics.length;
  // `tend check` has just listed every problem; other verbs point to it.
  throw new TendError('TEND_CONFIG_INVALID', `${count} problem${count === 1 ? '' : 's'} in ${result.file}`, isCheck ? { hint: '' } : {});
}
