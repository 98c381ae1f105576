// Diagnostics as text: "tend.yaml:4:14: services.web.restart: expected ...". Apart from
// diagnostics.ts so that printing them does not load zod (the CLI and a long-running engine
// receive diagnostics from a worker and only need to print them).
import * as nodePath from 'node:path';
import type { Diagnostic } from './diagnostics.js';

/** "tend.yaml:4:14: services.web.restart: expected ..." with the hint on its own indented line. */
export function formatDiagnostic(d: Diagnostic, { cwd = process.cwd() }: { cwd?: string } = {}): string {
  const relative = nodePath.relative(cwd, d.file);
  const file = relative !== '' && relative.length < d.file.length ? relative : d.file;
  const head = `${file}:${d.line}:${d.column}: ${d.message}`;
  return d.hint === undefined ? head : `${head}\n  hint: ${d.hint}`;
}

export function formatDiagnostics(list: readonly Diagnostic[], options: { cwd?: string } = {}): string {
  return list.map((d) => formatDiagnostic(d, options)).join('\n');
}
