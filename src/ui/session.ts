// The dashboard's login (an HttpOnly cookie) can end: the engine restarted with a new secret, or
// the link expired. A 401 on any request ends the page's session for good: every stream stops
// (retrying would only collect more 401s) and the app shows how to get a new link.

const listeners = new Set<() => void>();
let ended = false;

/** Called on the first 401: tells every listener once. */
export function endSession(): void {
  if (ended) return;
  ended = true;
  for (const listener of listeners) listener();
  listeners.clear();
}

/** Returns how to stop listening; a listener added after the end is called at once. */
export function onSessionEnd(listener: () => void): () => void {
  if (ended) {
    listener();
    return () => {};
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}
