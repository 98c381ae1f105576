// KEY=VALUE files (env_file): comments (#), blank lines, an optional `export `, unquoted,
// 'single' (literal) and "double" quoted values (\n \t \" \\ escapes, may span lines). No shell
// expansion of any kind: "$HOME" stays "$HOME". Pure: text in, variables and problems out.

interface EnvFileProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface EnvFile {
  /** In file order; a later definition of a name wins. */
  readonly vars: Record<string, string>;
  readonly problems: readonly EnvFileProblem[];
}

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$' };

export function parseEnvFile(text: string): EnvFile {
  const vars: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const line = index + 1;
    const body = raw.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    const indent = raw.length - body.length;
    const match = /^(export\s+)?([^=\s]*)\s*=\s*/.exec(body);
    if (!match) {
      problems.push({ line, column: indent + 1, message: `expected NAME=value, got ${JSON.stringify(body)}` });
      continue;
    }
    const name = match[2] ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
      problems.push({ line, column: indent + 1 + (match[1]?.length ?? 0), message: `bad variable name ${JSON.stringify(name)}` });
      continue;
    }
    const valueColumn = indent + match[0].length + 1;
    const rest = body.slice(match[0].length);
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const value = readQuoted(lines, index, valueColumn - 1, quote);
      if (value === null) {
        problems.push({ line, column: valueColumn, message: `the ${quote === '"' ? 'double' : 'single'} quote is never closed` });
        break;
      }
      vars[name] = value.value;
      index = value.lastLine;
    } else {
      // Unquoted: up to a " #" comment, trimmed.
      vars[name] = rest.replace(/(^|\s+)#.*$/, '').trim();
    }
  }
  return { vars, problems };
}

/** A quoted value starting at lines[index][column]; may continue over following lines. */
function readQuoted(lines: readonly string[], index: number, column: number, quote: string): { value: string; lastLine: number } | null {
  let value = '';
  let lineIndex = index;
  let position = column + 1;
  for (;;) {
    const text = lines[lineIndex] ?? '';
    while (position < text.length) {
      const char = text[position] as string;
      if (char === quote) return { value, lastLine: lineIndex };
      if (quote === '"' && char === '\\' && position + 1 < text.length) {
        const next = text[position + 1] as string;
        value += escapes[next] ?? `\\${next}`;
        position += 2;
      } else {
        value += char;
        position++;
      }
    }
    lineIndex++;
    if (lineIndex >= lines.length) return null;
    value += '\n';
    position = 0;
  }
}
