// Containment beyond process groups: where a writable cgroup v2 hierarchy is there (root with
// the unified hierarchy mounted, or a systemd unit with Delegate=yes), each unit runs in a
// cgroup of its own below tend's, so a process that leaves its process group (setsid, a
// double fork) is still seen, signalled and killed: `cgroup.kill` ends them all, and a unit is
// stopped only once its cgroup is empty (`cgroup.events`: populated 0).
//
// A child is placed in its cgroup without a race: the spawner moves itself into the unit's
// cgroup for the instant of the fork (a child starts in its parent's cgroup), then moves back.
// No controller is enabled in tend's subtree, so processes may live at every level (cgroup
// v2's "no internal processes" rule binds only where controllers are). Mechanism only.
import fs from 'node:fs';
import path from 'node:path';

export interface Cgroups {
  /** tend's cgroup for this project, holding one cgroup per unit. */
  readonly root: string;
  /** The unit's cgroup, created if missing; its path. */
  prepare(unit: string): string;
  /** Runs `spawn` with this process inside `dir`, so what it forks starts there. */
  spawnInside<T>(dir: string, spawn: () => T): T;
  /** Every unit is stopped: tend's cgroup goes (left in place while anything is in it). */
  remove(): void;
}

/** Where this process's cgroup v2 hierarchy is mounted, and its own cgroup in it; null without one. */
function ownCgroup(): string | null {
  let mount: string | undefined;
  let own: string | undefined;
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      // "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw": the mount point is field 5.
      const [left, right] = line.split(' - ');
      if (right?.startsWith('cgroup2 ')) {
        mount = left?.split(' ')[4];
        break;
      }
    }
    own = fs
      .readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'))
      ?.slice(3);
  } catch {
    return null; // no /proc: not Linux
  }
  return mount === undefined || own === undefined ? null : path.join(mount, own);
}

/** Without creating anything (`tend check`): where tend would make its cgroups, or null (process groups only). */
export function cgroupsPossible(): string | null {
  const home = ownCgroup();
  if (home === null) return null;
  try {
    fs.accessSync(home, fs.constants.W_OK);
    fs.accessSync(path.join(home, 'cgroup.procs'), fs.constants.W_OK);
    return home;
  } catch {
    return null;
  }
}

/**
 * tend's cgroup for a project (`tend-<id>` below this process's own cgroup), when one can be
 * made and written here; null means process groups only (not root, no delegation, no cgroup2).
 */
export function openCgroups(name: string): Cgroups | null {
  const home = ownCgroup();
  if (home === null) return null;
  const root = path.join(home, name);
  try {
    fs.mkdirSync(root, { recursive: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  try {
    fs.accessSync(path.join(root, 'cgroup.procs'), fs.constants.W_OK);
    fs.accessSync(path.join(home, 'cgroup.procs'), fs.constants.W_OK);
  } catch {
    return null;
  }
  const move = (dir: string) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid));
  let back = home;
  /**
   * Back out of a unit's cgroup after a spawn: home, or — should home be gone — a leaf of tend's
   * own below the project's. Never staying in the unit's, whose stop would kill this process too.
   */
  const leave = (): void => {
    try {
      move(back);
    } catch {
      try {
        back = path.join(root, 'tend');
        fs.mkdirSync(back, { recursive: true });
        move(back);
      } catch {
        // Nowhere to go: the spawn stands all the same; the next one tries again.
      }
    }
  };
  return {
    root,
    prepare(unit) {
      const dir = path.join(root, unit);
      try {
        fs.mkdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cgroupError(dir, error);
      }
      return dir;
    },
    spawnInside(dir, spawn) {
      try {
        move(dir);
      } catch (error) {
        throw cgroupError(dir, error);
      }
      try {
        return spawn();
      } finally {
        leave(); // the child exists: whatever happens here, the spawn is not reported failed
      }
    },
    remove() {
      for (const entry of fs.readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) removeCgroup(path.join(root, entry.name));
      removeCgroup(root);
    },
  };
}

/** A failure to put a unit in its cgroup, said as that (not as the program's "not found"). */
function cgroupError(dir: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  return Object.assign(new Error(`it could not be placed in its cgroup ${dir} (${code})`), { code: 'ECGROUP' });
}

/** Whether any process is left in the cgroup (or it is gone: false). */
export function isPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'latin1'));
  } catch {
    return false;
  }
}

/** The PIDs in the cgroup now. */
export function cgroupMembers(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'latin1').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sends `signal` to every process in the cgroup (those that left the process group too). */
export function signalCgroup(dir: string, signal: NodeJS.Signals): void {
  for (const pid of cgroupMembers(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/** SIGKILL to everything in it at once (cgroup.kill, Linux 5.14+), else to each member. */
export function killCgroup(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    signalCgroup(dir, 'SIGKILL');
  }
}

/** Removes an empty unit cgroup; one still populated (or gone) is left as it is. */
export function removeCgroup(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // EBUSY: not empty yet; ENOENT: gone
  }
}

/** CPU time (µs, cpu.stat) and memory (memory.current when the memory controller is on) of a cgroup. */
export function cgroupUsage(dir: string): { readonly cpuMicros: number; readonly memoryBytes: number | null } | null {
  try {
    const stat = fs.readFileSync(path.join(dir, 'cpu.stat'), 'latin1');
    const cpuMicros = Number(/^usage_usec (\d+)$/m.exec(stat)?.[1] ?? NaN);
    let memoryBytes: number | null = null;
    try {
      memoryBytes = Number(fs.readFileSync(path.join(dir, 'memory.current'), 'latin1').trim());
    } catch {
      // no memory controller here: the caller sums the members' RSS
    }
    return Number.isFinite(cpuMicros) ? { cpuMicros, memoryBytes } : null;
  } catch {
    return null;
  }
}
