// Pure parsers for the units a config is written in: durations, sizes, signal names — and the
// inverse formatters messages use. Each parser returns a value or null (never throws); callers
// turn null into a diagnostic.

/** What parseDuration accepts (also published in the JSON Schema, for editors). */
export const durationPattern = /^\s*(0+(\.0+)?|(\d+(\.\d+)?\s*(ms|s|m|h)\s*)+)\s*$/;

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * "250ms", "10s", "1.5m", "2h", "1m30s" or 0 → milliseconds. A bare non-zero number is refused,
 * string or not: `timeout: 10` could mean seconds (systemd) or milliseconds, and guessing wrong
 * turns a 10 s grace period into a SIGKILL after 10 ms.
 */
export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return input === 0 ? 0 : null;
  if (!durationPattern.test(input)) return null;
  let total = 0;
  const text = input.trim();
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h)/g)) {
    total += Number(match[1]) * (durationUnits[match[2] ?? 'ms'] ?? 1);
  }
  return Math.round(total);
}

/** True for input that would be a duration with a unit added: 10 or "10" (for a "did you mean 10s" hint). */
export function isBareNumber(input: unknown): boolean {
  return (typeof input === 'number' && Number.isFinite(input)) || (typeof input === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(input));
}

/** 90_000 → "90s", 1500 → "1.5s", 250 → "250ms", 3_600_000 → "1h": the shortest exact spelling in config syntax (cli/render/notice.ts rounds for people instead). */
export function spellDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const sizeUnits: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** "512", "10K", "10M", "1G" (also "10MB", "10MiB", lower case) or a number of bytes → bytes. */
/** What parseSize accepts in a string (also published in the JSON Schema, for editors). */
export const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*([kmgbKMGB]?)(?:[iI]?[bB])?\s*$/;

export function parseSize(input: string | number): number | null {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : null;
  const match = sizePattern.exec(input);
  if (!match) return null;
  const unit = (match[2] ?? '').toUpperCase();
  return Math.round(Number(match[1]) * (sizeUnits[unit] ?? 1));
}

/** Signals a stop may use. Names are POSIX; numbers are not accepted because they differ by platform. */
export const stopSignals = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGKILL',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGABRT',
  'SIGALRM',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGPWR',
] as const;
export type SignalName = (typeof stopSignals)[number];

/** "TERM", "sigterm", "SIGTERM" → "SIGTERM"; unknown → null. */
export function parseSignal(input: string): SignalName | null {
  const upper = input.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return (stopSignals as readonly string[]).includes(name) ? (name as SignalName) : null;
}
