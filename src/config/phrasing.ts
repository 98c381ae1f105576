// How config messages name things: key paths, values as the user wrote them, lists joined with
// "or", and the did-you-mean suggestion. Pure string work, shared by schema.ts, interpolate.ts and
// diagnostics.ts so every message reads the same.

export type PathSegment = string | number;

/** ['services','web','command',0] → services.web.command[0]; odd keys are quoted: services["my web"]. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A value as a message shows it after "got": strings quoted, containers by kind, null as "an empty value". */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

/** ['a','b','c'] → "a, b or c". */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions), so
 * "restrat" is one edit from "restart" like "comand" is from "command".
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] ?? 0) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] ?? 0;
}

/**
 * The closest candidate, if it is close enough to be a typo: at most 1 edit for short words,
 * about one per three letters for longer ones. Case is ignored ("Command" → "command").
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const wanted = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** " (did you mean "always"?)" or "" — ready to append to a message. */
export function suggestion(input: unknown, candidates: readonly string[]): string {
  if (typeof input !== 'string') return '';
  const match = didYouMean(input, candidates);
  return match === undefined || match === input ? '' : ` (did you mean ${JSON.stringify(match)}?)`;
}
