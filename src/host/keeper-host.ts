// The ProcessHost of an engine that runs under a keeper: every call is an order sent over the
// IPC channel, every event arrives from it. Calls are held until the engine commits, and go out
// in ONE message with the state and the last event handled — so after a crash the keeper has
// either both (nothing to redo) or neither (the new engine handles that event again).
import type { HostCall, KeeperToEngine, NumberedFact } from './keeper-protocol.js';
import type { HostListener, LogCount, ProcessHost, SavedState } from './host.js';

const STATS_TIMEOUT_MS = 1000;

export interface KeeperLink {
  send(message: unknown, callback?: () => void): void;
}

export interface KeeperHost extends ProcessHost {
  /** Hand the unacknowledged events of a dead engine to the listener, in order. */
  replay(events: readonly NumberedFact[]): void;
  /** Feed one message from the keeper (events; the rest is the caller's, pings are cli/keeper-channel's). */
  receive(message: KeeperToEngine): void;
}

export function createKeeperHost(link: KeeperLink, liveAtStart: readonly string[]) {
  return (listener: HostListener): KeeperHost => {
    let calls: HostCall[] = [];
    let ackSeq = 0;
    let statsId = 0;
    const statsWaiting = new Map<number, (logs: Readonly<Record<string, LogCount>>) => void>();
    const live = new Set(liveAtStart);

    function deliver({ seq, event }: NumberedFact): void {
      if (seq <= ackSeq) return; // already handled (a replay overlapping a live event)
      ackSeq = seq;
      if (event.type === 'spawned') live.add(event.unit);
      const ended = event.type === 'group-gone' || event.type === 'spawn-failed' || (event.type === 'exited' && event.groupEmpty);
      if (ended) live.delete(event.unit);
      listener.event(event);
    }

    return {
      spawn(spec) {
        calls.push({ op: 'spawn', spec });
      },
      stopGroup(unit, options) {
        calls.push({ op: 'stop-group', unit, options });
      },
      signalGroup(unit, signal) {
        if (!live.has(unit)) return false;
        calls.push({ op: 'signal-group', unit, signal });
        return true;
      },
      killAll() {
        // An emergency: no commit will follow, so the order goes out on its own.
        link.send({ type: 'commit', ackSeq, calls: [...calls, { op: 'kill-all' }], state: {} });
        calls = [];
      },
      liveUnits: () => [...live],
      commit(state: SavedState) {
        const batch = calls;
        calls = [];
        link.send({ type: 'commit', ackSeq, calls: batch, state });
      },
      close() {
        // The log files are the keeper's.
      },
      logStats() {
        const id = ++statsId;
        return new Promise((resolve) => {
          // A keeper before 0.3 never answers: after a second, no counts.
          const timer = setTimeout(() => (statsWaiting.delete(id), resolve({})), STATS_TIMEOUT_MS);
          statsWaiting.set(id, (logs) => (clearTimeout(timer), statsWaiting.delete(id), resolve(logs)));
          link.send({ type: 'stats', id });
        });
      },
      replay(events) {
        for (const numbered of events) deliver(numbered);
      },
      receive(message) {
        if (message.type === 'events') for (const numbered of message.events) deliver(numbered);
        if (message.type === 'stats') statsWaiting.get(message.id)?.(message.logs);
      },
    };
  };
}
