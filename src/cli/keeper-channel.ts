// The engine's end of the IPC channel to its keeper, opened by main.ts before anything heavy is
// loaded: pings are answered from the first turn of the event loop (the keeper's heartbeat
// judges an engine by these answers, see keeper/heartbeat.ts), and every other message is held
// until the engine is ready to take it. Sends never throw: a keeper that is gone is the
// engine's 'disconnect' to handle, not an exception.
type Handler = (message: unknown) => void;

const early: unknown[] = [];
let handler: Handler | null = null;
let lost = false;
let onLost: (() => void) | null = null;

const isPing = (message: unknown): message is { type: 'ping'; id: number } =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ping';

export function sendToKeeper(message: unknown, callback?: () => void): void {
  if (!process.connected || !process.send) return callback?.();
  process.send(message, undefined, {}, () => callback?.());
}

export function openKeeperChannel(): void {
  // Heard from the first moment: a keeper that dies while the engine is still loading must not
  // leave it waiting for a hello that never comes.
  process.once('disconnect', () => {
    lost = true;
    onLost?.();
  });
  process.on('message', (message: unknown) => {
    if (isPing(message)) return sendToKeeper({ type: 'pong', id: message.id });
    if (handler) handler(message);
    else early.push(message);
  });
}

/** From now on every message but pings goes to `next`, starting with those held so far. */
export function onKeeperMessage(next: Handler): void {
  handler = next;
  for (const message of early.splice(0)) next(message);
}

/** `then` runs once the keeper is gone (at once if it already is). */
export function whenKeeperLost(then: () => void): void {
  let called = false;
  onLost = () => {
    if (!called) then();
    called = true;
  };
  if (lost || !process.connected) onLost();
}
