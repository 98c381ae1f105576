// What a long operation is waiting for (`down` with long stop timeouts, `up -d` of many services,
// an upgrade), shown while it lasts. On a terminal: one line on stderr, redrawn twice a second
// after the first second — "waiting for 2: db (SIGTERM sent 4s ago, SIGKILL in 6s), web
// (starting)". Otherwise: a plain line every 5 s, once the operation has taken that long.
// stdout stays the operation's answer (and JSON stays JSON).
import type { StatusResponse, UnitInfo } from '../api/protocol.js';
import { formatDuration } from './render/notice.js';
import type { Io } from './verb.js';

const FIRST_MS = { tty: 1000, plain: 5000 };
const EVERY_MS = { tty: 500, plain: 5000 };

/** What one unit still does, in words; null when it is not in the middle of anything. */
function pendingOf(unit: UnitInfo): string | null {
  if (unit.phase === 'stopping') {
    const stop = unit.stopping;
    if (!stop) return `${unit.label} (stopping)`;
    const kill = stop.killInMs > 0 ? `SIGKILL in ${formatDuration(stop.killInMs)}` : 'SIGKILL sent';
    return `${unit.label} (${stop.signal} sent ${formatDuration(stop.sinceMs)} ago, ${kill})`;
  }
  if (unit.phase === 'starting') return `${unit.label} (starting)`;
  if (unit.phase === 'running' && unit.readiness?.state === 'pending') return `${unit.label} (not ready yet)`;
  if (unit.waitingOn?.state === 'waiting') return `${unit.label} (waiting for ${unit.waitingOn.reason})`;
  if (unit.phase === 'backoff') return `${unit.label} (restarting after a failed start)`;
  return null;
}

function describePending(status: StatusResponse, limit = 6): string | null {
  const pending = status.units.map(pendingOf).filter((text): text is string => text !== null);
  if (pending.length === 0) return null;
  const shown = pending.slice(0, limit).join(', ');
  return `waiting for ${pending.length}: ${shown}${pending.length > limit ? `, and ${pending.length - limit} more` : ''}`;
}

/** Shows progress until the returned function is called (it clears a terminal's line). */
export function showProgress(io: Io, status: () => Promise<StatusResponse>): () => void {
  const stderr = io.stderr as NodeJS.WriteStream;
  const tty = stderr.isTTY === true;
  let shown = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    const text = await status().then(describePending, () => null);
    if (stopped) return;
    if (text !== null) {
      if (tty) {
        const width = Math.max(20, (stderr.columns ?? 100) - 1);
        stderr.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
        shown = true;
      } else stderr.write(`tend: ${text}\n`);
    }
    timer = setTimeout(() => void tick(), tty ? EVERY_MS.tty : EVERY_MS.plain);
  };
  timer = setTimeout(() => void tick(), tty ? FIRST_MS.tty : FIRST_MS.plain);
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (shown) stderr.write('\r\x1b[2K');
  };
}
