// Waiting for facts with a deadline (vitest's waitForStdout): a condition is checked when the
// watched source changes, or polled lightly when it has no change signal (e.g. /proc state).
// On timeout the error says what was awaited and what was seen. Tests never sleep-then-assert.

export interface WaitOptions {
  /** Generous by default: a slow CI machine must not turn into a flaky failure. */
  readonly timeoutMs?: number;
  /** What is awaited, for the timeout message ("group 1234 to be empty"). */
  readonly what?: string;
  /** What was seen so far, appended to the timeout message. */
  readonly seen?: () => string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A value counts as "met" unless it is false, null or undefined. */
export type Met<T> = Exclude<T, false | null | undefined>;

function isMet<T>(value: T): value is Met<T> {
  return value !== false && value !== null && value !== undefined;
}

function timeoutError(options: WaitOptions, timeoutMs: number, failure?: unknown): Error {
  const seen = options.seen?.() ?? '';
  const last = failure === undefined ? '' : `\nlast check threw: ${String(failure)}`;
  return new Error(
    `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}${last}${seen === '' ? '' : `\n--- seen ---\n${seen}`}`,
  );
}

/**
 * Resolves with the condition's first met value. Polls every 10 ms, then every 25 ms after
 * the first 200 ms: cheap, and quick for conditions that are usually met at once. An async
 * condition (e.g. asking `tend ps`) is awaited before it is judged, never taken as met.
 */
export function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<Met<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = async (): Promise<void> => {
      let failure: unknown;
      try {
        const value = await condition();
        if (isMet(value)) return resolve(value);
      } catch (error) {
        failure = error; // e.g. a /proc file that vanished mid-read: try again
      }
      const elapsed = Date.now() - started;
      if (elapsed >= timeoutMs) return reject(timeoutError(options, timeoutMs, failure));
      setTimeout(() => void check(), elapsed < 200 ? 10 : 25);
    };
    void check();
  });
}

/** Something that says when it changed; returns the unsubscribe function. */
export type Subscribe = (onChange: () => void) => () => void;

/** Resolves when the condition is met, checked now and after every change of the source. */
export function waitForChange<T>(subscribe: Subscribe, condition: () => T, options: WaitOptions = {}): Promise<Met<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const first = condition();
    if (isMet(first)) return resolve(first);
    const finish = (settle: () => void): void => {
      clearTimeout(deadline);
      unsubscribe();
      settle();
    };
    const deadline = setTimeout(() => finish(() => reject(timeoutError(options, timeoutMs))), timeoutMs);
    const unsubscribe = subscribe(() => {
      try {
        const value = condition();
        if (isMet(value)) finish(() => resolve(value));
      } catch (error) {
        finish(() => reject(error));
      }
    });
  });
}
