// One fs.watch per directory for the whole process, shared by every tailer of a file in it. A
// watch on a directory is told of every change in it: with a watcher per tailer, the 200 logs
// of one log_dir followed by 5 dashboards made 1000 watchers, each woken by every write of every
// service (a million callbacks a second at 10k lines/s). Shared, each change wakes only the
// tailers of its own file: "web.log", "web.log.1" and "web.log.1.gz" wake the tailer of web.log.
import fs from 'node:fs';

/** A tailer's interest in one name; `closed` once the directory's watch failed (re-subscribe later). */
export interface NameWatch {
  readonly closed: boolean;
  close(): void;
}

interface Subscriber {
  closed: boolean;
  readonly wake: () => void;
}

interface DirWatch {
  readonly watcher: fs.FSWatcher;
  readonly byName: Map<string, Set<Subscriber>>;
}

const dirs = new Map<string, DirWatch>();

/** Calls `wake` on changes to `base` (or its rotations) in `dir`; throws when the directory cannot be watched. */
export function watchName(dir: string, base: string, wake: () => void): NameWatch {
  let entry = dirs.get(dir);
  if (entry === undefined) {
    const byName = new Map<string, Set<Subscriber>>();
    const watcher = fs.watch(dir, (_event, name) => dispatch(byName, name === null ? null : String(name)));
    const created: DirWatch = { watcher, byName };
    watcher.on('error', () => {
      // Gone (the directory was removed, inotify gave up): every subscriber re-arms on its poll.
      watcher.close();
      if (dirs.get(dir) === created) dirs.delete(dir);
      for (const set of byName.values()) for (const subscriber of set) subscriber.closed = true;
      byName.clear();
    });
    dirs.set(dir, created);
    entry = created;
  }
  const subscriber: Subscriber = { closed: false, wake };
  const { byName } = entry;
  const set = byName.get(base) ?? new Set();
  byName.set(base, set.add(subscriber));
  const owner = entry;
  return {
    get closed() {
      return subscriber.closed;
    },
    close() {
      if (subscriber.closed) return;
      subscriber.closed = true;
      set.delete(subscriber);
      if (set.size === 0 && byName.get(base) === set) byName.delete(base);
      if (byName.size === 0 && dirs.get(dir) === owner) {
        dirs.delete(dir);
        owner.watcher.close();
      }
    },
  };
}

function dispatch(byName: ReadonlyMap<string, Set<Subscriber>>, name: string | null): void {
  if (name === null) {
    for (const set of byName.values()) for (const subscriber of set) subscriber.wake();
    return;
  }
  // The name itself, then without each trailing ".part": a rotation's suffix (".1", ".1.gz").
  for (let key = name; key !== ''; ) {
    const set = byName.get(key);
    if (set !== undefined) for (const subscriber of set) subscriber.wake();
    const dot = key.lastIndexOf('.');
    if (dot <= 0) break;
    key = key.slice(0, dot);
  }
}
