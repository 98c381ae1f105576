// Pure parsers for the units a config is written in: durations, sizes, signal names.
// Each returns a number or null (never throws); callers turn null into a diagnostic.

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "10s", "1.5m", "2h", "0" or a bare number of milliseconds → milliseconds. */
export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === undefined) return value === 0 ? 0 : null; // a bare "10" is ambiguous; only 0 needs no unit
  return Math.round(value * (durationUnits[unit] ?? 1));
}

const sizeUnits: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** "512", "10K", "10M", "1G" (also "10MB", "10MiB", lower case) or a number of bytes → bytes. */
export function parseSize(input: string | number): number | null {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgb]?)(?:i?b)?\s*$/i.exec(input);
  if (!match) return null;
  const unit = (match[2] ?? '').toUpperCase();
  return Math.round(Number(match[1]) * (sizeUnits[unit] ?? 1));
}

/** Signals a stop may use. Names are POSIX; numbers are not accepted because they differ by platform. */
export const stopSignals = [
  'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGABRT',
  'SIGALRM', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGPWR',
] as const;
export type SignalName = (typeof stopSignals)[number];

/** "TERM", "sigterm", "SIGTERM" → "SIGTERM"; unknown → null. */
export function parseSignal(input: string): SignalName | null {
  const upper = input.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return (stopSignals as readonly string[]).includes(name) ? (name as SignalName) : null;
}
