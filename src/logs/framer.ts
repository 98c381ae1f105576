// Bytes → lines for one output stream of one process (pure: no I/O, no clock). Owns line
// framing only: where a line ends, how an overlong line is split, what a partial last line
// becomes at EOF. It never drops a byte, never decodes text, and knows nothing of files.

export interface FramerOptions {
  /** Longest line kept whole; longer lines are split into pieces of at most this many bytes. */
  readonly maxLineBytes?: number;
}

export interface Framer {
  /**
   * Feed the next chunk; returns the lines completed so far, without their "\n" (and without a
   * "\r" before it). Returned Buffers are either subarrays of `chunk` (valid as long as the
   * caller does not reuse or modify that chunk) or fresh copies; the framer never keeps a
   * reference to `chunk` after returning, so the caller may recycle it once it is done with
   * the lines.
   */
  push(chunk: Buffer): Buffer[];
  /** EOF: returns the partial last line (if any bytes are pending), then starts empty. */
  end(): Buffer[];
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export function createFramer({ maxLineBytes = 16384 }: FramerOptions = {}): Framer {
  // 4 = the longest UTF-8 sequence: a piece always has room for one whole character.
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 4) {
    throw new RangeError(`maxLineBytes must be an integer >= 4, got ${maxLineBytes}`);
  }
  const max = maxLineBytes;
  // The partial line, an owned copy. It holds at most max + 1 bytes: one more than a piece,
  // because a trailing "\r" may still turn out to be half of a "\r\n" and must not become
  // content of its own (which would split a line of exactly max bytes, or add an empty line).
  let pending: Buffer = EMPTY;

  function push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let nl = chunk.indexOf(LF);
    if (pending.length > 0 && nl !== -1) {
      addLine(lines, Buffer.concat([pending, chunk.subarray(0, nl)]), max);
      pending = EMPTY;
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    // The hot path: whole lines inside one chunk cost one indexOf and one subarray each.
    while (nl !== -1) {
      addLine(lines, chunk.subarray(start, nl), max);
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) keepTail(lines, chunk.subarray(start));
    return lines;
  }

  /** Holds bytes without a newline yet; emits full pieces as soon as the line is surely overlong. */
  function keepTail(lines: Buffer[], rest: Buffer): void {
    if (pending.length + rest.length <= max + 1) {
      pending = pending.length === 0 ? Buffer.from(rest) : Buffer.concat([pending, rest]);
      return;
    }
    // One concat per chunk (never per byte), so a long line costs O(its length) in total.
    const joined = pending.length === 0 ? rest : Buffer.concat([pending, rest]);
    let from = 0;
    while (joined.length - from > max + 1) {
      const to = cutPoint(joined, from, max);
      lines.push(joined.subarray(from, to));
      from = to;
    }
    pending = Buffer.from(joined.subarray(from));
  }

  function end(): Buffer[] {
    const lines: Buffer[] = [];
    if (pending.length > 0) addLine(lines, pending, max);
    pending = EMPTY;
    return lines;
  }

  return { push, end };
}

/** Pushes one complete line (without its "\n"), dropping a final "\r", split into pieces if overlong. */
function addLine(lines: Buffer[], line: Buffer, max: number): void {
  const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  if (length <= max) {
    lines.push(length === line.length ? line : line.subarray(0, length));
    return;
  }
  let from = 0;
  while (length - from > max) {
    const to = cutPoint(line, from, max);
    lines.push(line.subarray(from, to));
    from = to;
  }
  lines.push(line.subarray(from, length));
}

/**
 * Where a piece starting at `from` ends: `from + max`, moved back to the start of a UTF-8
 * sequence when that position is inside one, so a character is never cut in two. Invalid
 * UTF-8 (binary output) is cut at exactly `max`. Callers guarantee buf[from + max] exists.
 */
function cutPoint(buf: Buffer, from: number, max: number): number {
  const end = from + max;
  let at = end;
  for (let back = 0; back < 3 && isContinuation(buf[at]); back++) at--;
  const lead = buf[at] ?? 0;
  return at < end && lead >= 0xc0 ? at : end;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
