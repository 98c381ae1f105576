// What service output looks like in a terminal: "web.0  | text", the label padded to the
// widest one and coloured by service name (stable across runs), plus the NO_COLOR/TTY rules.
// Pure: it builds Buffers and never writes them; the caller owns stdout.

import type { OutputStream } from '../host/host.js';

export interface TerminalFormatterOptions {
  readonly color: boolean;
  /** Every label that may be shown (e.g. "web.0", "web.1", "db"); sets the padding width. */
  readonly names: readonly string[];
}

export interface TerminalFormatter {
  /**
   * One Buffer with every line prefixed. `label` is a unit ("web.0") or a service name; its
   * colour comes from the service name (before the first "."), so all instances share one.
   * stderr lines look the same as stdout lines: the log file keeps the stream.
   */
  format(label: string, lines: readonly Buffer[], stream: OutputStream): Buffer;
  /** A supervisor line (label "tend"): bold label, dim text; "\n" in text gives several lines. */
  formatText(label: string, text: string): Buffer;
}

export interface ColorEnvironment {
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

// Bright and normal variants of the six hues that read on dark and light backgrounds. Red is
// left out: it would look like an error.
const PALETTE = [36, 33, 32, 35, 34, 96, 92, 95] as const;
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const NEWLINE = 0x0a;
const FORCE_ON = new Set(['', '1', '2', '3', 'true']);

export function createTerminalFormatter({ color, names }: TerminalFormatterOptions): TerminalFormatter {
  let width = Math.max('tend'.length, ...names.map((name) => name.length));
  const prefixes = new Map<string, Buffer>();

  function prefixFor(label: string, style: string): Buffer {
    if (label.length > width) {
      // An unexpected longer label widens the column for good rather than breaking alignment.
      width = label.length;
      prefixes.clear();
    }
    const key = `${style}\0${label}`;
    let prefix = prefixes.get(key);
    if (prefix === undefined) {
      const text = `${label.padEnd(width)} | `;
      prefix = Buffer.from(color ? `${style}${text}${RESET}` : text, 'utf8');
      prefixes.set(key, prefix);
    }
    return prefix;
  }

  function format(label: string, lines: readonly Buffer[], _stream: OutputStream): Buffer {
    const prefix = prefixFor(label, colorOf(label));
    let total = 0;
    for (const line of lines) total += prefix.length + line.length + 1;
    // A fresh Buffer, not a reused one: the caller hands it to an asynchronous stream write.
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const line of lines) {
      at += prefix.copy(out, at);
      at += line.copy(out, at);
      out[at++] = NEWLINE;
    }
    return out;
  }

  function formatText(label: string, text: string): Buffer {
    const prefix = prefixFor(label, BOLD).toString('utf8');
    const body = (text.endsWith('\n') ? text.slice(0, -1) : text)
      .split('\n')
      .map((line) => (color ? `${prefix}${DIM}${line}${RESET}\n` : `${prefix}${line}\n`))
      .join('');
    return Buffer.from(body, 'utf8');
  }

  return { format, formatText };
}

/** Colour unless told otherwise: FORCE_COLOR decides first (as in Node), then NO_COLOR, TERM=dumb, no TTY. */
export function shouldUseColor({ isTTY, env }: ColorEnvironment): boolean {
  const force = env['FORCE_COLOR'];
  // Node's own reading of FORCE_COLOR (tty.getColorDepth): these values force colour on, any
  // other value forces it off, and either way NO_COLOR is then ignored.
  if (force !== undefined) return FORCE_ON.has(force);
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return isTTY;
}

/** The SGR sequence for a label's service: FNV-1a over the name, so it is stable across runs. */
export function colorOf(label: string): string {
  const dot = label.indexOf('.');
  const name = dot === -1 ? label : label.slice(0, dot);
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `\x1b[${PALETTE[hash % PALETTE.length]}m`;
}
