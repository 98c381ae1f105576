/** Closes an exhaustive switch: the compiler rejects a missing case, the runtime names it. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
