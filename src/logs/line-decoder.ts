// Chunks of a file read forwards → whole lines as strings, the partial last line held until its
// "\n" arrives. Unlike framer.ts (Buffers per line, overlong lines split for the writer), it
// decodes once per chunk: the follower must outpace a writer at full speed. No I/O.

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
// A "line" this long without "\n" is not the sink's (its lines are bounded): hand it on in
// pieces rather than hold unbounded memory.
const MAX_PARTIAL = 1024 * 1024;

export interface LineDecoder {
  /** Calls onLine for each line completed by `chunk`; `chunk` may be reused once this returns. */
  push(chunk: Buffer): void;
  /** The file ended for good: a held partial line is handed on as a line. */
  flush(): void;
  /** Forgets a held partial line (its file was truncated). */
  reset(): void;
}

export function createLineDecoder(onLine: (line: string) => void): LineDecoder {
  let partial = EMPTY;

  function push(chunk: Buffer): void {
    const last = chunk.lastIndexOf(LF);
    let start = 0;
    if (last >= 0 && partial.length > 0) {
      start = chunk.indexOf(LF) + 1;
      const held = partial;
      partial = EMPTY;
      onLine(Buffer.concat([held, chunk.subarray(0, start - 1)]).toString('utf8'));
    }
    if (start <= last) {
      // One decode for all the whole lines, then string slices: several times faster than a
      // decode per line, and a "\n" byte never sits inside a UTF-8 sequence.
      const text = chunk.toString('utf8', start, last);
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        onLine(text.slice(from, nl));
        from = nl + 1;
      }
      onLine(text.slice(from));
    }
    // Copied: the caller reuses its read buffer.
    const rest = last >= 0 ? last + 1 : 0;
    if (rest < chunk.length) partial = Buffer.concat([partial, chunk.subarray(rest)]);
    if (partial.length > MAX_PARTIAL) flush();
  }

  function flush(): void {
    if (partial.length === 0) return;
    const line = partial;
    partial = EMPTY;
    onLine(line.toString('utf8'));
  }

  return {
    push,
    flush,
    reset: () => {
      partial = EMPTY;
    },
  };
}
