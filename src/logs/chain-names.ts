// The names of one log file's rotation chain, shared by the writer (file-sink.ts, compressor.ts)
// and the readers (rotation-chain.ts): file, then file.1 … file.keep, each rotated one either
// plain (file.N) or gzip-compressed (file.N.gz). Names only; no I/O.

import path from 'node:path';

/** Index 0 is the file being written; 1 … keep are rotated copies, newest first. */
export const plainName = (file: string, index: number): string => (index === 0 ? file : `${file}.${index}`);

/** The compressed form of rotated copy `index` (never the current file, never file.1). */
export const gzName = (file: string, index: number): string => `${file}.${index}.gz`;

/**
 * Where a compression writes before its rename to file.N.gz. A dot file, so neither a reader's
 * chain walk nor a follower's directory watch (which matches "<base>." names) ever sees it.
 */
export const compressTempName = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.gz.tmp`);

/** First index that is ever compressed: file.1 stays plain for followers and grep. */
export const FIRST_COMPRESSED = 2;
