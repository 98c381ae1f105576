// Output orders of the core, imperative: what the engine must do next. Notices are the
// supervisor's own log (events file, terminal, `tend events`); they carry no decision.
import type { TimerName } from './inputs.js';
import type { Result } from './service.js';

export type Notice =
  | { readonly kind: 'spawned'; readonly pid: number; readonly restarts: number }
  | { readonly kind: 'spawn-failed'; readonly error: string }
  | {
      readonly kind: 'exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly result: Result;
      readonly uptimeMs: number;
    }
  | { readonly kind: 'restarting'; readonly delayMs: number; readonly attempt: number }
  | { readonly kind: 'completed'; readonly result: Result }
  | { readonly kind: 'fatal'; readonly starts: number; readonly intervalMs: number }
  | { readonly kind: 'stopping'; readonly signal: string; readonly reason: string }
  | { readonly kind: 'memory-exceeded'; readonly rssBytes: number; readonly limitBytes: number }
  | { readonly kind: 'probe-failed'; readonly probe: 'liveness' | 'startup'; readonly output: string }
  | { readonly kind: 'stopped'; readonly forced: boolean };

export type Effect =
  | { readonly type: 'spawn' }
  | { readonly type: 'stop-group'; readonly signal: string; readonly timeoutMs: number }
  | { readonly type: 'schedule'; readonly timer: TimerName; readonly generation: number; readonly at: number }
  | { readonly type: 'cancel'; readonly timer: TimerName }
  | { readonly type: 'emit'; readonly notice: Notice };
