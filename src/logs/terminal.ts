// What service output looks like in a terminal: "web.0  | text", the label padded to the
// widest one and coloured by service name (stable across runs), plus the NO_COLOR/TTY rules.
// A service's bytes never drive the terminal: control characters and escape sequences are
// shown as caret text (ESC as ^[, as `less` and journalctl do), except colour (SGR) sequences
// when colour is on. Pure: it builds Buffers and never writes them; the caller owns stdout.

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

  function format(label: string, raw: readonly Buffer[], _stream: OutputStream): Buffer {
    const prefix = prefixFor(label, colorOf(label));
    const lines = raw.map((line) => neutralize(line, color));
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

const ESC = 0x1b;
const TAB = 0x09;
/** An SGR (colour) sequence: ESC [ digits and ;, then m. */
const SGR = /^\x1b\[[0-9;]*m/;

/** True for a byte that must not reach the terminal as is: C0 controls but tab, DEL, and the lead of a C1 control (U+0080–U+009F). */
const isControl = (line: Buffer, i: number): boolean => {
  const b = line[i] ?? 0;
  return (b < 0x20 && b !== TAB) || b === 0x7f || (b === 0xc2 && (line[i + 1] ?? 0) >= 0x80 && (line[i + 1] ?? 0) <= 0x9f);
};

/**
 * The line with every control character shown as caret text (^[ for ESC, ^G for BEL, ^? for
 * DEL, M-^[ style for C1), so output cannot move the cursor, retitle the window or hide text.
 * Colour sequences stay when `keepColor`, and are dropped otherwise. Lines without control
 * bytes (nearly all) are returned as they are.
 */
export function neutralize(line: Buffer, keepColor: boolean): Buffer {
  let first = -1;
  for (let i = 0; i < line.length; i++) {
    if (isControl(line, i)) {
      first = i;
      break;
    }
  }
  if (first < 0) return line;
  const parts: Buffer[] = [line.subarray(0, first)];
  let i = first;
  let plainFrom = first;
  while (i < line.length) {
    if (!isControl(line, i)) {
      i += 1;
      continue;
    }
    parts.push(line.subarray(plainFrom, i));
    const b = line[i] ?? 0;
    if (b === ESC) {
      const sgr = SGR.exec(line.toString('latin1', i, Math.min(line.length, i + 64)));
      if (sgr) {
        if (keepColor) parts.push(line.subarray(i, i + sgr[0].length));
        i += sgr[0].length;
        plainFrom = i;
        continue;
      }
    }
    if (b === 0xc2) {
      parts.push(Buffer.from(`M-^${String.fromCharCode(((line[i + 1] ?? 0x80) - 0x80 + 0x40) & 0x7f)}`, 'latin1'));
      i += 2;
    } else {
      parts.push(Buffer.from(b === 0x7f ? '^?' : `^${String.fromCharCode(b + 0x40)}`, 'latin1'));
      i += 1;
    }
    plainFrom = i;
  }
  parts.push(line.subarray(plainFrom));
  return Buffer.concat(parts);
}
