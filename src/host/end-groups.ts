// tend's one stop sequence, for every group it ends: a service's stop (its own stop signal and
// stop.timeout), what a dead tend left behind, and a keeper's stop with no engine to order it.
//   1. the stop signal to the whole process group (and its cgroup, which also holds processes
//      that left the group), then SIGCONT so a stopped (^Z) process acts on it;
//   2. wait until no live process is left — one /proc scan per tick serves every pending stop;
//   3. after the grace, SIGKILL whatever is left ("forced"), and wait until it is gone.
// DEFAULT_GRACE_MS is the grace where no service config gives one: the config's own default
// stop.timeout, so a leftover from a dead tend gets what its service would have got.
import { isPopulated, killCgroup, removeCgroup, signalCgroup } from './cgroup.js';
import { liveGroups, readStat } from './proc.js';

export const DEFAULT_GRACE_MS = 10_000;
/** Checks every 10 ms for a stop's first 100 ms (most finish by then), then every 50. */
const [FAST_POLL_MS, SLOW_POLL_MS, FAST_PHASE_MS] = [10, 50, 100];
const MAX_TIMER_MS = 2 ** 31 - 1;
const NO_CONT: ReadonlySet<NodeJS.Signals> = new Set(['SIGKILL', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

export interface Group {
  /** The group's id (its leader's pid); undefined for a cgroup alone. */
  readonly pgid: number | undefined;
  /** The unit's own cgroup, when tend has cgroups: what "empty" and "kill" then mean. */
  readonly cgroup?: string | undefined;
  /** The leader was reaped: a live process with that pid is then a stranger (a recycled pid). Default: never known. */
  readonly leaderReaped?: () => boolean;
  /** False while the stop must not end yet (the leader's exit is not reported). Default: always ready. */
  readonly ready?: () => boolean;
}

export interface Ending {
  /** Resolves once nothing of the group is left: true when SIGKILL was needed. */
  readonly done: Promise<boolean>;
  /** SIGKILL what is left now (counts as forced). */
  kill(): void;
}

/**
 * A pgid is ours while the group has a member: the kernel does not hand out a number still in
 * use as a pgid. Once our leader is reaped, a process with that pid means the number was
 * recycled — our group is empty and the number names a stranger.
 */
const isRecycled = (group: Group): boolean =>
  group.pgid === undefined || (group.leaderReaped?.() === true && readStat(group.pgid) !== null);

/** Signal every process of the group (and its cgroup); false when none was there to receive it. */
export function signalGroup(group: Group, signal: NodeJS.Signals): boolean {
  let reached = false;
  if (!isRecycled(group)) {
    try {
      process.kill(-(group.pgid as number), signal); // negative pid: the whole group, grandchildren too
      reached = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH' && code !== 'EPERM') throw error; // an unknown signal name: a bug upstream
    }
  }
  if (group.cgroup !== undefined && isPopulated(group.cgroup)) {
    signalCgroup(group.cgroup, signal);
    reached = true;
  }
  return reached;
}

/** The stop signal, then SIGCONT unless the signal is itself a job-control one (or SIGKILL). */
export function sendStop(group: Group, signal: NodeJS.Signals): boolean {
  const reached = signalGroup(group, signal);
  if (reached && !NO_CONT.has(signal)) signalGroup(group, 'SIGCONT');
  return reached;
}

export function createGroupEnder() {
  interface Pending {
    readonly group: Group;
    readonly since: number;
    forced: boolean;
    readonly killTimer: NodeJS.Timeout;
    readonly resolve: (forced: boolean) => void;
  }
  const pending = new Set<Pending>();
  let pollTimer: NodeJS.Timeout | undefined;

  function kill(stop: Pending): void {
    const { group } = stop;
    if (!isRecycled(group) && liveGroups(new Set([group.pgid as number])).size > 0 && signalGroup({ pgid: group.pgid }, 'SIGKILL'))
      stop.forced = true;
    if (group.cgroup !== undefined && isPopulated(group.cgroup)) {
      killCgroup(group.cgroup); // every process of the unit, wherever its process group
      stop.forced = true;
    }
  }

  function poll(): void {
    clearTimeout(pollTimer);
    pollTimer = undefined;
    const ready = [...pending].filter((stop) => stop.group.ready?.() ?? true);
    const pgids = new Set<number>();
    for (const { group } of ready) if (!isRecycled(group)) pgids.add(group.pgid as number);
    const live = pgids.size > 0 ? liveGroups(pgids) : new Set<number>();
    for (const stop of ready) {
      const { group } = stop;
      if ((group.pgid !== undefined && live.has(group.pgid)) || (group.cgroup !== undefined && isPopulated(group.cgroup))) continue;
      pending.delete(stop);
      clearTimeout(stop.killTimer);
      if (group.cgroup !== undefined) removeCgroup(group.cgroup);
      stop.resolve(stop.forced);
    }
    schedule();
  }

  function schedule(): void {
    if (pollTimer !== undefined || pending.size === 0) return; // nothing pending: no polling
    const young = [...pending].some((stop) => performance.now() - stop.since < FAST_PHASE_MS);
    pollTimer = setTimeout(poll, young ? FAST_POLL_MS : SLOW_POLL_MS);
  }

  return {
    /** Starts the sequence on a group; an empty group is answered on the next check. */
    end(group: Group, signal: NodeJS.Signals, graceMs: number = DEFAULT_GRACE_MS): Ending {
      let resolve: (forced: boolean) => void = () => {};
      const done = new Promise<boolean>((settle) => (resolve = settle));
      // Clamped: past 2^31-1 ms Node fires a timer at once, which would SIGKILL at once.
      const stop: Pending = {
        group,
        since: performance.now(),
        forced: false,
        resolve,
        killTimer: setTimeout(() => (kill(stop), poll()), Math.min(graceMs, MAX_TIMER_MS)),
      };
      pending.add(stop);
      sendStop(group, signal);
      schedule();
      return {
        done,
        kill: () => {
          if (!pending.has(stop)) return;
          kill(stop);
          poll();
        },
      };
    },
    /** Check now (a leader's exit was just reported: often the last thing a stop waited for). */
    check: poll,
    /** Stop watching: pending stops stay unanswered (their groups would not die even to SIGKILL). */
    abandon(): void {
      clearTimeout(pollTimer);
      for (const stop of pending) clearTimeout(stop.killTimer);
      pending.clear();
    },
  };
}

/** The sequence on a set of groups at once, with one grace; resolves when all are gone. */
export function endGroups(
  groups: readonly Group[],
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs: number = DEFAULT_GRACE_MS,
): Promise<boolean[]> {
  const ender = createGroupEnder();
  return Promise.all(groups.map((group) => ender.end(group, signal, graceMs).done));
}
