// Work on many units (start 1,000, stop them all) runs in slices of at most SLICE_MS, with a
// turn of the event loop between them: the API, the keeper's heartbeat and the services' exits
// are served during a large start, and no slice is long even on a starved CPU.

const SLICE_MS = 10;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Calls `each` on every item, yielding to the event loop every SLICE_MS; all their answers. */
export async function inSlices<T, R>(items: readonly T[], each: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  let until = performance.now() + SLICE_MS;
  for (const item of items) {
    if (performance.now() >= until) {
      await nextTurn();
      until = performance.now() + SLICE_MS;
    }
    out.push(each(item));
  }
  return out;
}
