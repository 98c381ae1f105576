// Watch mode (nodemon's job): a service with `watch: [globs]` is restarted when a file matching
// one of them changes below its working directory — once per burst of changes (DEBOUNCE_MS), and
// only while it runs. Each glob is watched from its fixed prefix ("src/**/*.ts" from src/), one
// inotify watch per directory: node_modules and .git (and `watch_ignore`) are never walked, so a
// large tree costs what its sources cost, and at most MAX_DIRECTORIES directories per service are
// watched (a warning says when the rest are not). Globs are matched by picomatch, loaded only
// when a service watches.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Picomatch from 'picomatch';
import type { Clock } from './clock.js';
import type { Commands } from './commands.js';
import type { Loop } from './loop.js';

const DEBOUNCE_MS = 300;
const MAX_DIRECTORIES = 2000;
const ALWAYS_IGNORED = ['node_modules', '.git'];

const picomatch = (): typeof Picomatch => createRequire(import.meta.url)('picomatch') as typeof Picomatch;

/** "src/**\/*.ts" → "src"; "*.json" → "" (the working directory itself). */
function fixedPrefix(glob: string): string {
  const parts = glob.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[\]{}()!]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/');
}

interface Watching {
  readonly key: string;
  close(): void;
}

export function createWatch(loop: Loop, clock: Clock, commands: Commands) {
  const watching = new Map<string, Watching>();

  function watchService(name: string, cwd: string, globs: readonly string[], ignore: readonly string[]): Watching {
    const matches = picomatch()([...globs], { dot: false });
    const skip = new Set([...ALWAYS_IGNORED, ...ignore]);
    const watchers = new Map<string, fs.FSWatcher>();
    let pending: (() => void) | null = null;
    let warned = false;

    const changed = (file: string): void => {
      if (!matches(file) || pending) return;
      pending = clock.setTimer(DEBOUNCE_MS, () => {
        pending = null;
        for (const entry of loop.units.values()) {
          if (entry.ref.service === name && entry.state.phase === 'running') void commands.command(entry, 'restart', 'watch');
        }
      });
    };

    const add = (dir: string): void => {
      if (watchers.has(dir) || closed) return;
      if (watchers.size >= MAX_DIRECTORIES) {
        if (!warned)
          loop.warn(`${name}: watching the first ${MAX_DIRECTORIES} directories only; narrow its watch globs or add watch_ignore`);
        warned = true;
        return;
      }
      let watcher: fs.FSWatcher;
      try {
        watcher = fs.watch(dir, { persistent: false }, (_event, file) => {
          if (file === null) return;
          const full = path.join(dir, file.toString());
          const relative = path.relative(cwd, full);
          changed(relative);
          // A new directory below is watched too.
          if (!skip.has(path.basename(full)) && isDirectory(full)) walk(full);
        });
      } catch {
        return; // gone, or not ours to read
      }
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(dir);
      });
      watchers.set(dir, watcher);
    };

    const walk = (dir: string): void => {
      add(dir);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) if (entry.isDirectory() && !skip.has(entry.name)) walk(path.join(dir, entry.name));
    };

    let closed = false;
    for (const root of new Set(globs.map((glob) => path.resolve(cwd, fixedPrefix(glob))))) if (isDirectory(root)) walk(root);
    return {
      key: JSON.stringify([cwd, globs, ignore]),
      close() {
        closed = true;
        pending?.();
        for (const watcher of watchers.values()) watcher.close();
        watchers.clear();
      },
    };
  }

  return {
    /** Watch what the config in force asks; stop what it no longer does. At start and after a reload. */
    sync(): void {
      const wanted = new Map(
        loop
          .config()
          .services.filter((s) => s.watch.length > 0)
          .map((s) => [s.name, { key: JSON.stringify([s.cwd, s.watch, s.watchIgnore]), service: s }] as const),
      );
      for (const [name, current] of watching) {
        if (wanted.get(name)?.key === current.key) continue;
        current.close();
        watching.delete(name);
      }
      for (const [name, { service }] of wanted) {
        if (!watching.has(name)) watching.set(name, watchService(name, service.cwd, service.watch, service.watchIgnore));
      }
    },

    close(): void {
      for (const current of watching.values()) current.close();
      watching.clear();
    },
  };
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
