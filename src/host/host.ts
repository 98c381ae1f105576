// The ProcessHost interface: processes as a mechanism, with no policy. The engine asks it to
// spawn, signal and stop process groups and hears back facts (events). The first
// implementation is in-process (local.ts); the keeper's will let services outlive the engine.

/** What to run. `unit` is the key every event about this process comes back with ("web.0"). */
export interface SpawnSpec {
  readonly unit: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The complete environment of the child (the host adds nothing). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the output goes, for a host that writes log files itself (the keeper). */
  readonly log?: LogTarget;
  /** Run as this uid and gid, with the supplementary groups of the account (initGroups) or none. */
  readonly runAs?: { readonly uid: number; readonly gid: number; readonly initGroups: boolean };
}

/** A unit's log file and rotation, as the keeper needs it to frame, timestamp and rotate. */
export interface LogTarget {
  readonly file: string;
  readonly maxSize: number;
  readonly keep: number;
  /** Gzip rotated files from file.2 on; absent (an engine older than the keeper) = false. */
  readonly compress?: boolean;
  readonly instance: number;
  /** File mode (0600, 0640 or 0644) and group of the log files; absent = 0600, tend's group. */
  readonly mode?: number;
  readonly gid?: number;
}

export type OutputStream = 'out' | 'err';

/** Facts, past tense. Events for one unit arrive in this order: spawned|spawn-failed, exited, group-gone. */
export type HostEvent =
  /** The process exists, leader of its own process group (pgid = pid). */
  | { readonly type: 'spawned'; readonly unit: string; readonly pid: number }
  /** No process was created (program not found, cwd missing, permission...). */
  | { readonly type: 'spawn-failed'; readonly unit: string; readonly error: string }
  /**
   * The group leader exited and was reaped. Sent once its stdout/stderr reached EOF, or a short
   * grace after the exit if another process of the group still holds them.
   */
  | {
      readonly type: 'exited';
      readonly unit: string;
      readonly pid: number;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      /**
       * True when the group had no process left at all when the exit was reported (kill(-pgid, 0)
       * said ESRCH): nothing to clean up, the unit may be spawned again at once.
       */
      readonly groupEmpty: boolean;
    }
  /** Answer to stopGroup: no live process is left in the group. forced = SIGKILL was needed. */
  | { readonly type: 'group-gone'; readonly unit: string; readonly forced: boolean }
  /**
   * Output of the unit could not be written to its log (a full disk): said when the loss begins
   * and again, with the totals, once writing resumes (`ended`). From the log writer, not the host.
   */
  | { readonly type: 'log-lost'; readonly unit: string; readonly lines: number; readonly bytes: number; readonly reason: string; readonly ended: boolean };

export interface HostListener {
  event(event: HostEvent): void;
  /** A chunk of raw bytes from the unit's stdout or stderr, in order. */
  output(unit: string, stream: OutputStream, chunk: Buffer): void;
  /** The stream reached EOF: no more output from this process on it. */
  outputEnd(unit: string, stream: OutputStream): void;
}

export interface StopOptions {
  readonly signal: NodeJS.Signals;
  readonly timeoutMs: number;
}

/**
 * The write-ahead record of what a host spawned (runtime/state-file.ts implements it): told
 * before each spawn, right after it with the PID, and once the unit's group is empty. Every call
 * is synchronous and on disk (page cache) when it returns, so whatever kills the host — at any
 * instant, SIGKILL included — leaves enough for the next start to find every survivor.
 */
export interface SpawnJournal {
  /** About to spawn: a child found later without a PID line was spawned after this moment. */
  spawning(unit: string, cwd: string): void;
  spawned(unit: string, pid: number): void;
  /** The unit has no process group any more (or its spawn failed). */
  gone(unit: string): void;
}

export interface ProcessHost {
  /** Start argv in a new process group; the answer is a spawned or spawn-failed event. */
  spawn(spec: SpawnSpec): void;
  /**
   * Stop the unit's whole group: send `signal` (and SIGCONT, so stopped processes act on it),
   * wait until the leader has exited and no live member is left, SIGKILL the group after
   * timeoutMs. Always answered by exactly one group-gone event, also when the group is
   * already empty (e.g. after a crash of the leader, to clean up what it left behind).
   */
  stopGroup(unit: string, options: StopOptions): void;
  /** Send a signal to the unit's group now, with no follow-up. False when it has no group. */
  signalGroup(unit: string, signal: NodeJS.Signals): boolean;
  /** SIGKILL every group this host started, synchronously (second Ctrl-C, fatal error of tend). */
  killAll(): void;
  /** Units whose group is still known to have members. */
  liveUnits(): string[];
  /** True when the host writes the log files (from SpawnSpec.log); the engine then only reads them. */
  readonly writesLogs?: boolean;
  /**
   * Hosts that outlive the engine keep its state: called after each batch of events with what
   * changed, together with the calls made meanwhile (which such a host may hold until then).
   */
  commit?(state: SavedState): void;
}

/** Opaque engine state a host may keep across engine restarts (see keeper-protocol.ts). */
export interface SavedState {
  readonly config?: unknown;
  readonly units?: Readonly<Record<string, unknown>>;
  readonly timers?: Readonly<Record<string, unknown>>;
}
