// The keeper's side of the engine's ProcessHost (host/keeper-host.ts is the engine's side): the
// data plane, driven by the engine's commits. Each host fact is numbered and kept until the
// engine acknowledges it (a new engine gets the rest again); events go out batched per turn; a
// commit brings the calls to carry out (at a paced rate, call-queue.ts) and the state to keep
// for the next engine. The link is a function: the keeper's IPC channel, or memory in a test.
import type { Cgroups } from '../host/cgroup.js';
import { createDataPlane } from '../host/data-plane.js';
import type { HostFact, SpawnJournal } from '../host/host.js';
import type { EngineToKeeper, HostCall, KeeperToEngine, NumberedFact, SavedState } from '../host/keeper-protocol.js';
import { createCallQueue } from './call-queue.js';

export interface RelayOptions {
  readonly journal?: SpawnJournal | undefined;
  readonly cgroups?: Cgroups | null | undefined;
  readonly log: (text: string) => void;
  /** To the engine now running; dropped when there is none (events stay pending). */
  readonly send: (message: KeeperToEngine) => void;
  /** Told of every host fact after it is numbered (the keeper's stop without an engine listens). */
  readonly onEvent?: (event: HostFact) => void;
}

export function createRelay({ journal, cgroups, log, send, onEvent }: RelayOptions) {
  let seq = 0;
  let pending: NumberedFact[] = [];
  const saved: { config?: unknown; units: Record<string, unknown>; timers: Record<string, unknown> } = { units: {}, timers: {} };
  let hasState = false;

  // Events go to the engine in one message per turn of the event loop: a stop of 1,000
  // services is a few messages, not 2,000.
  let outgoing: NumberedFact[] = [];
  const sendEvents = (): void => {
    const events = outgoing;
    outgoing = [];
    if (events.length > 0) send({ type: 'events', events });
  };
  /**
   * The readiness a service said on its notification fd, per unit, for as long as that life
   * lasts: said once, it is handed to every later engine again, acknowledged or not.
   */
  const notified = new Map<string, NumberedFact>();
  function record(event: HostFact): void {
    seq += 1;
    const numbered = { seq, event };
    pending.push(numbered);
    if (event.type === 'notified') notified.set(event.unit, numbered);
    else if (event.type === 'spawned' || event.type === 'spawn-failed') notified.delete(event.unit);
    if (outgoing.push(numbered) === 1) setImmediate(sendEvents);
    onEvent?.(event);
  }
  const plane = createDataPlane({ event: record }, { journal, cgroups, warn: (text) => log(`warning: ${text}`) });
  const calls = createCallQueue(apply);

  function apply(call: HostCall): void {
    try {
      switch (call.op) {
        case 'spawn':
          return plane.spawn(call.spec);
        case 'stop-group':
          return plane.stopGroup(call.unit, call.options);
        case 'signal-group':
          return void plane.signalGroup(call.unit, call.signal);
        case 'kill-all':
          return plane.killAll();
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(
        `refused an order of the engine (${call.op} ${call.op === 'spawn' ? call.spec.unit : 'unit' in call ? call.unit : 'all'}): ${reason}`,
      );
      // A refused spawn is heard by the engine as a failed spawn, like any other.
      if (call.op === 'spawn') record({ type: 'spawn-failed', unit: call.spec.unit, error: reason });
    }
  }

  return {
    /** The data plane itself: for the keeper's own stop when no engine is left, and its status. */
    plane,

    commit(message: Extract<EngineToKeeper, { type: 'commit' }>): void {
      pending = pending.filter((numbered) => numbered.seq > message.ackSeq);
      const state: SavedState = message.state;
      if (state.config !== undefined) saved.config = state.config;
      for (const [key, value] of Object.entries(state.units ?? {})) value === null ? delete saved.units[key] : (saved.units[key] = value);
      for (const [key, value] of Object.entries(state.timers ?? {}))
        value === null ? delete saved.timers[key] : (saved.timers[key] = value);
      hasState ||= state.config !== undefined;
      if (message.calls.some((call) => call.op === 'kill-all')) {
        // The engine's emergency: nothing it ordered before matters any more.
        calls.clear();
        plane.killAll();
        return;
      }
      calls.push(message.calls);
    },

    /** What a new engine's hello carries: the last committed state, the unacknowledged events, the live units. */
    handover(): { state: SavedState | null; pending: readonly NumberedFact[]; liveUnits: string[] } {
      const state = hasState ? { config: saved.config, units: saved.units, timers: saved.timers } : null;
      const said = [...notified.values()].filter((numbered) => !pending.includes(numbered));
      return { state, pending: [...pending, ...said].sort((a, b) => a.seq - b.seq), liveUnits: plane.liveUnits() };
    },

    /** An engine has committed state: it ran services (a first engine that dies later is replaced, not mourned). */
    get committed(): boolean {
      return hasState;
    },

    /** Orders not yet carried out. */
    get queued(): number {
      return calls.size;
    },
    /** Drops the orders not yet carried out; how many. */
    dropQueued: (): number => calls.clear(),

    close: () => plane.close(),
  };
}
