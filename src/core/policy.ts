// The restart decision as data: exit cause × restart policy, the shape of systemd's
// "Exit causes and the effect of the Restart= settings" table. An operator stop never gets
// here: it is not an exit cause, it is an intent recorded before the signal is sent.
import type { RestartPolicy } from '../config/schema.js';

export type ExitCause = 'clean-exit' | 'failed-exit' | 'clean-signal' | 'unclean-signal' | 'spawn-failed' | 'memory' | 'liveness';

/** SIGHUP, SIGINT, SIGTERM and SIGPIPE are the signals a well-behaved stop uses (systemd's "clean" set). */
const cleanSignals = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);

export function classifyExit(code: number | null, signal: string | null): ExitCause {
  if (signal !== null) return cleanSignals.has(signal) ? 'clean-signal' : 'unclean-signal';
  return code === 0 ? 'clean-exit' : 'failed-exit';
}

const restartTable: Readonly<Record<ExitCause, Readonly<Record<RestartPolicy, boolean>>>> = {
  //                 always  on-failure  never
  'clean-exit': { always: true, 'on-failure': false, never: false },
  'failed-exit': { always: true, 'on-failure': true, never: false },
  'clean-signal': { always: true, 'on-failure': false, never: false },
  'unclean-signal': { always: true, 'on-failure': true, never: false },
  'spawn-failed': { always: true, 'on-failure': true, never: false },
  // Killed by tend for exceeding max_memory: a failure, like systemd's OOM result.
  memory: { always: true, 'on-failure': true, never: false },
  // Killed by tend because its liveness (or startup) probe kept failing: a failure too.
  liveness: { always: true, 'on-failure': true, never: false },
};

export function shouldRestart(cause: ExitCause, policy: RestartPolicy): boolean {
  return restartTable[cause][policy];
}
