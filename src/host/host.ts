// The ProcessHost interface: processes and their output as a mechanism, with no policy. The
// engine asks it to spawn, signal and stop process groups and hears back facts (events); the
// host writes each unit's output to its log file. Two implementations, one contract: the data
// plane in this process (data-plane.ts, a foreground `tend up`) and the same data plane in the
// keeper, reached over IPC (keeper-host.ts, `tend up -d`), so services outlive the engine.

/** What to run. `unit` is the key every event about this process comes back with ("web.0"). */
export interface ProcessSpec {
  readonly unit: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The complete environment of the child (the host adds nothing). */
  readonly env: Readonly<Record<string, string>>;
  /** Run as this uid and gid, with the supplementary groups of the account (initGroups) or none. */
  readonly runAs?: { readonly uid: number; readonly gid: number; readonly initGroups: boolean };
  /**
   * A pipe the child inherits as this descriptor (3 to 63) and writes a newline to once it is
   * ready (s6's notification-fd): answered by a `notified` fact.
   */
  readonly notifyFd?: number;
}

/** What to run, and where its output goes: the host frames, timestamps, writes and rotates it. */
export interface SpawnSpec extends ProcessSpec {
  readonly log: LogTarget;
}

/** A unit's log file and rotation, as the host needs it to frame, timestamp and rotate. */
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

/** Facts, past tense. Events for one unit arrive in this order: spawned|spawn-failed, notified, exited, group-gone. */
export type HostFact =
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
  /** The process wrote a newline to its notification fd (ProcessSpec.notifyFd): it says it is ready. Once per life. */
  | { readonly type: 'notified'; readonly unit: string; readonly pid: number }
  /** Answer to stopGroup: no live process is left in the group. forced = SIGKILL was needed. */
  | { readonly type: 'group-gone'; readonly unit: string; readonly forced: boolean }
  /**
   * Output of the unit could not be written to its log (a full disk): said when the loss begins
   * and again, with the totals, once writing resumes (`ended`). From the log writer, not the host.
   */
  | {
      readonly type: 'log-lost';
      readonly unit: string;
      readonly lines: number;
      readonly bytes: number;
      readonly reason: string;
      readonly ended: boolean;
    };

export interface HostListener {
  event(event: HostFact): void;
  /**
   * Complete lines of a unit's output, once written to its log (a foreground `tend up` echoes
   * them). Only a host in this process calls it: the keeper keeps the output in the files.
   */
  lines?(unit: string, stream: OutputStream, lines: readonly Buffer[]): void;
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
  /**
   * The end of a turn of the engine: what changed in its state since the last commit. A host
   * that outlives the engine (the keeper) keeps it, and carries out the calls made during the
   * turn only now, in one message with it; the in-process host has nothing to keep.
   */
  commit(state: SavedState): void;
  /** Close the log files (after the last process is gone). */
  close(): void;
  /**
   * Lines and bytes each unit's log took since the data plane started (for /metrics). A host
   * that cannot tell (a keeper older than this call) answers {}.
   */
  logStats(): Promise<Readonly<Record<string, LogCount>>>;
}

/** Output a unit's log took: lines, and bytes with their newlines. */
export interface LogCount {
  readonly lines: number;
  readonly bytes: number;
}

/** Opaque engine state a host may keep across engine restarts (see keeper-protocol.ts). */
export interface SavedState {
  readonly config?: unknown;
  readonly units?: Readonly<Record<string, unknown>>;
  readonly timers?: Readonly<Record<string, unknown>>;
}
