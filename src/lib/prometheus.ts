// The Prometheus text exposition format (0.0.4): metric families written as # HELP, # TYPE and
// one line per sample, label values escaped. Shared by the engine's metrics and the API's own.

/** One metric family: its help, type and samples (labels → value). */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: Array<[Record<string, string>, number]>;
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatFamilies(families: readonly Family[]): string {
  let text = '';
  for (const family of families) {
    text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    for (const [labels, value] of family.samples) {
      const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`);
      text += `${family.name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${Number.isFinite(value) ? value : 0}\n`;
    }
  }
  return text;
}
