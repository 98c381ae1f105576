// The processes of the data plane (data-plane.ts): each unit runs as the leader of its own
// process group (spawned detached, pgid = pid), in a cgroup of its own where tend has them; its
// output chunks and its exit are forwarded, and stops run tend's one stop sequence
// (end-groups.ts) on the whole group. Mechanism only: it never decides to restart, and it never
// polls for exits (they come from 'exit').
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isPopulated, killCgroup, type Cgroups } from './cgroup.js';
import { createGroupEnder, sendStop, signalGroup, type Ending, type Group } from './end-groups.js';
import type { HostFact, OutputStream, ProcessSpec, SpawnJournal, StopOptions } from './host.js';
import { groupExists, liveGroups, readStat } from './proc.js';

/** How long 'exited' waits for EOF when another group member still holds the pipes. */
const EXIT_GRACE_MS = 50;

/** What the processes tell the data plane: facts, and raw output chunks in order. */
export interface ProcessListener {
  event(event: HostFact): void;
  output(unit: string, stream: OutputStream, chunk: Buffer): void;
  /** The stream reached EOF: no more output from this process on it. */
  outputEnd(unit: string, stream: OutputStream): void;
}

interface Stop {
  answers: number; // stopGroup calls waiting for this one group-gone
  readonly ending: Ending;
}

interface Entry {
  readonly unit: string;
  pid: number | undefined; // undefined: the spawn failed; the pid is also the pgid
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined; // set when reaped
  exitReported: boolean;
  graceTimer: NodeJS.Timeout | undefined;
  readonly streams: { readonly readable: Readable; readonly finish: () => void }[];
  stop: Stop | undefined;
  /** The read end of the notification fd (ProcessSpec.notifyFd); not an output stream. */
  notify: Readable | undefined;
  /** The unit's own cgroup, when tend has cgroups (cgroup.ts): what "empty" and "kill" then mean. */
  cgroup: string | undefined;
  /** The entry as a group for end-groups.ts. */
  readonly group: Group;
}

const noJournal: SpawnJournal = { spawning() {}, spawned() {}, gone() {} };

export interface LocalProcessesOptions {
  /** Write-ahead record of every spawn (the keeper's, or a foreground engine's, state file). */
  readonly journal?: SpawnJournal | undefined;
  /** A cgroup per unit (cgroup.ts) where the system allows; absent: process groups only. */
  readonly cgroups?: Cgroups | null | undefined;
}

export function createLocalProcesses(listener: ProcessListener, { journal = noJournal, cgroups = null }: LocalProcessesOptions = {}) {
  const units = new Map<string, Entry>();
  const ender = createGroupEnder();
  /** pgids of replaced entries whose groups still had members, so killAll still reaches them. */
  const leftovers = new Set<number>();

  // Identity guard (stronger than comparing pids): an entry replaced by a respawn never
  // reports under the unit again.
  const isCurrent = (entry: Entry): boolean => units.get(entry.unit) === entry;
  const emit = (entry: Entry, event: HostFact): void => {
    if (!isCurrent(entry)) return;
    const ended = event.type === 'spawn-failed' || event.type === 'group-gone' || (event.type === 'exited' && event.groupEmpty);
    if (ended) journal.gone(entry.unit);
    listener.event(event);
  };

  /** Once our leader is reaped, a process with its pid is a stranger (see end-groups.ts). */
  const isRecycled = (pgid: number, leaderReaped: boolean): boolean => leaderReaped && readStat(pgid) !== null;
  const streamsEnded = (entry: Entry): boolean => entry.streams.every((s) => s.readable.readableEnded || s.readable.destroyed);

  function reportExit(entry: Entry): void {
    if (entry.exitReported || entry.exit === undefined || entry.pid === undefined) return;
    clearTimeout(entry.graceTimer);
    entry.exitReported = true;
    emit(entry, {
      type: 'exited',
      unit: entry.unit,
      pid: entry.pid,
      ...entry.exit,
      groupEmpty: !groupExists(entry.pid) && !cgroupLive(entry),
    });
    if (entry.stop !== undefined) ender.check(); // the leader was the last thing a stop waited for, often
  }

  function attach(entry: Entry, name: OutputStream, readable: Readable): void {
    let open = true;
    const finish = (): void => {
      if (!open) return;
      open = false;
      if (isCurrent(entry)) listener.outputEnd(entry.unit, name);
      if (streamsEnded(entry)) reportExit(entry);
    };
    readable.on('data', (chunk: Buffer) => {
      if (isCurrent(entry)) listener.output(entry.unit, name, chunk);
    });
    readable.once('end', finish);
    readable.once('close', finish); // after an error or destroy(), 'end' never comes
    readable.on('error', () => {}); // EIO and the like: 'close' follows and ends the stream
    entry.streams.push({ readable, finish });
  }

  /**
   * The first newline on the notification fd says ready, once; whatever else the service writes
   * there is read and dropped (closing our end would kill a writer with SIGPIPE).
   */
  function listenForReady(entry: Entry, readable: Readable | null): void {
    if (readable === null) return;
    entry.notify = readable;
    let said = false;
    readable.on('data', (chunk: Buffer) => {
      if (said || !chunk.includes(0x0a) || entry.pid === undefined) return;
      said = true;
      emit(entry, { type: 'notified', unit: entry.unit, pid: entry.pid });
    });
    readable.on('error', () => {}); // the service closed it: nothing to say
  }

  const failSpawn = (entry: Entry, spec: ProcessSpec, error: unknown): void =>
    emit(entry, {
      type: 'spawn-failed',
      unit: entry.unit,
      error: `cannot start "${spec.argv[0] ?? ''}": ${describeSpawnError(spec, error)}`,
    });

  /** Makes room for a respawn; the old process must be finished as far as the engine knows. */
  function retire(old: Entry): void {
    if (old.pid !== undefined && (!old.exitReported || old.stop !== undefined)) {
      throw new Error(`host: "${old.unit}" (pid ${old.pid}) is still running or stopping; it cannot be spawned again yet`);
    }
    // Flush the old streams' ends now, while they still belong to the unit, then drop the pipes:
    // output of something the old process left behind must not appear under the new one.
    for (const { readable, finish } of old.streams) {
      finish();
      readable.destroy();
    }
    old.notify?.destroy();
    // Keep only groups that still have members (usually none: a crash-looping service costs a
    // kill(0) per respawn, no /proc scan).
    const candidates = [...leftovers, old.pid ?? 0].filter((pgid) => pgid > 0 && !isRecycled(pgid, true));
    leftovers.clear();
    for (const pgid of liveGroups(new Set(candidates))) leftovers.add(pgid);
  }

  /** Some process of the unit is still in its cgroup (one that left the process group included). */
  const cgroupLive = (entry: Entry): boolean => entry.cgroup !== undefined && isPopulated(entry.cgroup);

  function newEntry(unit: string): Entry {
    const entry: Entry = {
      unit,
      pid: undefined,
      exit: undefined,
      exitReported: false,
      graceTimer: undefined,
      streams: [],
      notify: undefined,
      stop: undefined,
      cgroup: undefined,
      group: {
        get pgid() {
          return entry.pid;
        },
        get cgroup() {
          return entry.cgroup;
        },
        leaderReaped: () => entry.exit !== undefined,
        // Only stops whose leader's exit was reported can finish: exited always precedes group-gone.
        ready: () => entry.exitReported || entry.pid === undefined,
      },
    };
    return entry;
  }

  return {
    spawn(spec: ProcessSpec): void {
      const old = units.get(spec.unit);
      if (old !== undefined) retire(old);
      const entry = newEntry(spec.unit);
      units.set(spec.unit, entry);
      if (spec.argv[0] === undefined || spec.argv[0] === '') {
        queueMicrotask(() => failSpawn(entry, spec, new Error('the command is empty')));
        return;
      }
      let launch: Launch;
      try {
        launch = launchOf(spec);
      } catch (error) {
        queueMicrotask(() => failSpawn(entry, spec, error));
        return;
      }
      const [program = '', ...args] = launch.argv;
      let child: ChildProcess;
      // Recorded before the fork: if this process dies inside spawn() (it blocks until exec),
      // the next start still knows a child of this unit may be out there.
      journal.spawning(spec.unit, spec.cwd);
      try {
        // detached: setsid(), so the child leads a new group and the whole tree can be signalled
        // as -pid. No shell: the config layer already wrapped string commands in /bin/sh -c.
        const start = () =>
          spawnChild(program, args, {
            cwd: spec.cwd,
            env: { ...spec.env },
            detached: true,
            stdio: stdioOf(spec.notifyFd),
            ...launch.ids,
          });
        entry.cgroup = cgroups?.prepare(spec.unit);
        child = entry.cgroup === undefined ? start() : (cgroups as Cgroups).spawnInside(entry.cgroup, start);
      } catch (error) {
        queueMicrotask(() => failSpawn(entry, spec, error)); // ENOTDIR and friends throw synchronously
        return;
      }
      if (child.pid === undefined) {
        // ENOENT/EACCES (also a missing cwd): 'error' comes on the next tick, and no 'exit' after it.
        child.once('error', (error) => failSpawn(entry, spec, error));
        return;
      }
      const pid = (entry.pid = child.pid);
      journal.spawned(spec.unit, pid);
      child.on('error', () => {}); // after a successful spawn only kill() can fail, and we never use it
      child.once('spawn', () => emit(entry, { type: 'spawned', unit: spec.unit, pid }));
      child.once('exit', (code, signal) => {
        entry.exit = { code, signal };
        if (streamsEnded(entry)) reportExit(entry);
        else entry.graceTimer = setTimeout(() => reportExit(entry), EXIT_GRACE_MS); // a grandchild holds the pipes
      });
      if (spec.notifyFd !== undefined) listenForReady(entry, child.stdio[spec.notifyFd] as Readable | null);
      if (child.stdout !== null) attach(entry, 'out', child.stdout);
      if (child.stderr !== null) attach(entry, 'err', child.stderr);
    },

    stopGroup(unit: string, { signal, timeoutMs }: StopOptions): void {
      const entry = units.get(unit);
      if (entry === undefined || entry.pid === undefined) {
        // Unknown or never started: nothing to stop, answered asynchronously like every stop.
        setImmediate(() => {
          if (units.get(unit) === entry) listener.event({ type: 'group-gone', unit, forced: false });
        });
        return;
      }
      if (entry.stop !== undefined) {
        sendStop(entry.group, signal);
        entry.stop.answers += 1; // a repeated stop shares the pending one's deadline and answer
        return;
      }
      const stop: Stop = { answers: 1, ending: ender.end(entry.group, signal, timeoutMs) };
      entry.stop = stop;
      void stop.ending.done.then((forced) => {
        entry.stop = undefined;
        for (let i = 0; i < stop.answers; i += 1) emit(entry, { type: 'group-gone', unit: entry.unit, forced });
      });
    },

    signalGroup(unit: string, signal: NodeJS.Signals): boolean {
      const entry = units.get(unit);
      return entry !== undefined && entry.pid !== undefined && signalGroup(entry.group, signal);
    },

    killAll(): void {
      const targets = new Map<number, Entry | undefined>();
      for (const pgid of leftovers) if (!isRecycled(pgid, true)) targets.set(pgid, undefined);
      for (const entry of units.values()) {
        if (entry.pid !== undefined && !isRecycled(entry.pid, entry.exit !== undefined)) targets.set(entry.pid, entry);
      }
      for (const pgid of liveGroups(new Set(targets.keys()))) {
        const entry = targets.get(pgid);
        if (entry?.stop !== undefined)
          entry.stop.ending.kill(); // its group-gone says forced
        else signalGroup({ pgid }, 'SIGKILL');
      }
      for (const entry of units.values()) if (entry.cgroup !== undefined) killCgroup(entry.cgroup);
      leftovers.clear();
    },

    liveUnits(): string[] {
      const reaped = [...units.values()].filter((e) => e.pid !== undefined && e.exit !== undefined && !isRecycled(e.pid, true));
      const live = liveGroups(new Set(reaped.map((e) => e.pid ?? 0)));
      return [...units.values()]
        .filter((e) => e.pid !== undefined && (e.exit === undefined || live.has(e.pid) || cgroupLive(e)))
        .map((e) => e.unit);
    },
  };
}

/** stdin closed, stdout and stderr piped, and a pipe at the notification fd (the ones between closed). */
function stdioOf(notifyFd: number | undefined): ('ignore' | 'pipe')[] {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
  if (notifyFd === undefined) return stdio;
  while (stdio.length < notifyFd) stdio.push('ignore');
  stdio.push('pipe');
  return stdio;
}

interface Launch {
  readonly argv: readonly string[];
  /** uid/gid for Node's spawn, which also drops every supplementary group. */
  readonly ids?: { readonly uid: number; readonly gid: number };
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];
let setpriv: string | null | undefined;

/**
 * How to start a spec. As another user with that user's supplementary groups (as su and
 * systemd's User= give them), the program is run through util-linux's setpriv
 * (--reuid/--regid/--init-groups), because Node's own uid/gid options clear every
 * supplementary group; setpriv execs the program, so it keeps the PID and the process group.
 * A uid without an account has no groups to give: Node's options then do it alone.
 */
function launchOf(spec: ProcessSpec): Launch {
  const { runAs } = spec;
  if (runAs === undefined || (runAs.uid === process.geteuid?.() && runAs.gid === process.getegid?.())) return { argv: spec.argv };
  if (!runAs.initGroups) return { argv: spec.argv, ids: { uid: runAs.uid, gid: runAs.gid } };
  setpriv ??= SETPRIV.find((file) => isExecutable(file)) ?? null;
  if (setpriv === null)
    throw Object.assign(new Error(`running it as uid ${runAs.uid} with its groups needs setpriv (util-linux), which is not installed`), {
      code: 'ESETPRIV',
    });
  // setpriv would report a missing program as its own exit 127: say it the usual way instead.
  if (resolveProgram(spec) === null) throw Object.assign(new Error('program not found'), { code: 'ENOENT' });
  return { argv: [setpriv, `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--init-groups', '--', ...spec.argv] };
}

function resolveProgram(spec: ProcessSpec): string | null {
  const program = spec.argv[0] ?? '';
  if (program.includes('/')) return isExecutable(path.resolve(spec.cwd, program)) ? program : null;
  for (const dir of (spec.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.resolve(spec.cwd, dir || '.', program);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    return statSync(file).isFile() && (accessSync(file, fsConstants.X_OK), true);
  } catch {
    return false;
  }
}

/** One plain phrase; a missing cwd also surfaces as ENOENT, so it is checked first. */
function describeSpawnError(spec: ProcessSpec, error: unknown): string {
  if (!isDirectory(spec.cwd)) return `working directory "${spec.cwd}" does not exist or is not a directory`;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'program not found';
    case 'EACCES':
      return 'permission denied (is it executable?)';
    case 'ENOTDIR':
      return 'a part of its path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // missing, ENOTDIR, EACCES: in every case the child could not chdir there
  }
}
