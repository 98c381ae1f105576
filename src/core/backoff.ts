// Exponential backoff with jitter. The random draw is passed in so the core stays pure.

export interface BackoffSpec {
  readonly initial: number;
  readonly max: number;
  readonly reset_after: number;
}

/** Fraction of the delay that jitter may take off, so a fleet that crashed together spreads out. */
const jitterFraction = 0.2;

/**
 * Delay before restart number `failures` (1 for the first failure in a row):
 * min(max, initial · 2^(failures-1)), minus up to 20% jitter. `random` is in [0, 1).
 */
export function nextDelay(spec: BackoffSpec, failures: number, random: number): number {
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(spec.max, spec.initial * 2 ** Math.min(exponent, 52));
  return Math.round(base * (1 - jitterFraction * random));
}

/** A run that lasted reset_after or longer wipes the failure streak. */
export function failuresAfterRun(spec: BackoffSpec, previousFailures: number, uptimeMs: number): number {
  return uptimeMs >= spec.reset_after ? 1 : previousFailures + 1;
}
