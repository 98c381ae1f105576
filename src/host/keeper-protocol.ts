// The messages between the keeper and the engine, over the Node IPC channel the keeper opens
// when it spawns the engine. Versioned: the keeper outlives engine upgrades, so a new engine
// must still speak the keeper's protocol — or say plainly that it cannot.
import type { HostFact, LogCount, SavedState, SpawnSpec, StopOptions } from './host.js';

export type { SavedState };

/**
 * Bump only when a message changes incompatibly; engines list every version they speak.
 * 2: the keeper writes the PID journal (state.json) ahead of each spawn and answers nothing
 * but well-formed messages; engines answer pings from their first moment.
 */
export const KEEPER_PROTOCOL = 2;

/** The keeper protocols this engine speaks: every one, not just the newest (`tend engine --capabilities`). */
export const ENGINE_KEEPER_PROTOCOLS: readonly number[] = [2];

/** What an engine tells `tend up -d` through its keeper, once: ready with the start outcomes, or why it could not start. */
export type EngineAnnouncement =
  /** results: the ActionResult[] of api/protocol.ts, one per unit started. */
  | { readonly type: 'ready'; readonly results: readonly unknown[] }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly message: string;
      readonly hint?: string;
      readonly details?: readonly string[];
    };

export type HostCall =
  | { readonly op: 'spawn'; readonly spec: SpawnSpec }
  | { readonly op: 'stop-group'; readonly unit: string; readonly options: StopOptions }
  | { readonly op: 'signal-group'; readonly unit: string; readonly signal: NodeJS.Signals }
  | { readonly op: 'kill-all' };

/** A host fact numbered by the keeper, so the engine can say which ones it has handled. */
export interface NumberedFact {
  readonly seq: number;
  readonly event: HostFact;
}

export type KeeperToEngine =
  /**
   * First message to every engine: the protocol, the state the previous engine committed (none
   * for the first engine of a project), the events it never acknowledged, and the units whose
   * groups still have members.
   */
  | {
      readonly type: 'hello';
      readonly protocol: number;
      readonly keeperPid: number;
      readonly state: SavedState | null;
      readonly pending: readonly NumberedFact[];
      readonly liveUnits: readonly string[];
      /** After a crash or hang of the last engine: how it ended ("it died (SIGKILL)"), for the events file. */
      readonly lastFailure?: string;
      /** Why this engine was started: first start, after a crash/hang of the last one, or an upgrade. */
      readonly reason: 'start' | 'respawn' | 'upgrade';
      /** First start only: the config `tend up -d` validated a moment ago, so the engine need not load it again. */
      readonly config?: unknown;
      /** First start only: the services `tend up -d NAME...` named (and what they need); absent: all. */
      readonly only?: readonly string[];
      /** tend's cgroup for the project (a cgroup per unit below it), or null: process groups only. */
      readonly cgroupRoot: string | null;
    }
  /** Host facts in the order they happened (the message keeps its old name, `events`: the protocol outlives engines), batched per turn of the keeper's event loop. */
  | { readonly type: 'events'; readonly events: readonly NumberedFact[] }
  | { readonly type: 'ping'; readonly id: number }
  /** Answer to the engine's `stats`: what each unit's log took since the keeper started. */
  | { readonly type: 'stats'; readonly id: number; readonly logs: Readonly<Record<string, LogCount>> }
  /** Answer to `upgrade`: a candidate engine was found incompatible; the running engine stays. */
  | { readonly type: 'upgrade-refused'; readonly reason: string }
  /** Close the API and exit without touching services: a new engine takes over. */
  | { readonly type: 'retire' }
  /** The keeper was asked to stop (SIGTERM, e.g. from systemd): stop every service, then say `down`. */
  | { readonly type: 'shutdown' };

export type EngineToKeeper =
  /**
   * The result of handling events up to `ackSeq`: the calls to make (in order) and the state to
   * keep. Sent as ONE message, so the keeper has either both or neither.
   */
  | { readonly type: 'commit'; readonly ackSeq: number; readonly calls: readonly HostCall[]; readonly state: SavedState }
  | { readonly type: 'pong'; readonly id: number }
  /** Replace me with the engine code now on disk, keeping every service running. */
  | { readonly type: 'upgrade' }
  /** Every service is stopped: exit once I have. */
  | { readonly type: 'down' }
  /** For whoever started the keeper (`tend up -d`): the first engine's ready or failure message, relayed as is. */
  | { readonly type: 'announce'; readonly message: EngineAnnouncement }
  /** What each unit's log took (for /metrics): answered by `stats` with the same id. A keeper before 0.3 ignores it. */
  | { readonly type: 'stats'; readonly id: number };

/** What `node <engine> keeper-protocols` prints: how the keeper checks a candidate before an upgrade. */
export interface EngineCapabilities {
  readonly version: string;
  readonly keeperProtocols: readonly number[];
}

/** The keeper's answer to `{"op":"status"}` on its lock socket (runtime/lock.ts): for the CLI when no engine answers. */
export interface KeeperStatus {
  readonly keeperPid: number;
  /** The engine now running, null between two (or while backing off). */
  readonly enginePid: number | null;
  /** Why the last engine ended before it was ready, or how it died. */
  readonly lastFailure: { readonly at: string; readonly reason: string } | null;
  /** When the next engine starts, while backing off. */
  readonly nextEngineAt: string | null;
  /** Every unit with a process group, and its leader (from the PID journal). */
  readonly units: ReadonlyArray<{ readonly unit: string; readonly pid: number | null }>;
}
