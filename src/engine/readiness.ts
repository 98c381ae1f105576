// Readiness: for each running instance of a service with a `readiness` probe, checks on the
// engine's clock — the first after `initial_delay`, then every `period`, one at a time — and
// turns them into ready (success_threshold passes in a row) or not ready (failure_threshold
// failures in a row). A new life starts over as not yet known. Each change is an event, wakes
// the commands that wait for it (`up -d`, `start`) and the starts that depend on it.
import type { Clock } from './clock.js';
import type { Loop, UnitEntry } from './loop.js';
import { runCheck, type CheckResult } from './probe-checks.js';

/** What is known of an instance: no probe (null), not yet known, ready, or not ready (and why). */
export type Readiness = null | { readonly state: 'pending' | 'ready' | 'not-ready'; readonly output: string };

interface Track {
  readonly generation: number;
  state: 'pending' | 'ready' | 'not-ready';
  successes: number;
  failures: number;
  output: string;
  cancel: () => void;
}

export function createReadiness(loop: Loop, clock: Clock, changed: (entry: UnitEntry) => void) {
  const tracks = new Map<UnitEntry, Track>();

  function stop(entry: UnitEntry): void {
    tracks.get(entry)?.cancel();
    tracks.delete(entry);
  }

  function schedule(entry: UnitEntry, track: Track, delayMs: number): void {
    track.cancel = clock.setTimer(delayMs, () => void check(entry, track));
  }

  async function check(entry: UnitEntry, track: Track): Promise<void> {
    const service = loop.service(entry.ref.service);
    const probe = service?.readiness;
    if (!service || !probe || tracks.get(entry) !== track) return;
    let result: CheckResult;
    try {
      result = await runCheck(probe, service, loop.specOf(entry).env);
    } catch (error) {
      result = { ok: false, output: error instanceof Error ? error.message : String(error) };
    }
    if (tracks.get(entry) !== track) return; // a new life, or stopped, meanwhile
    track.output = result.output;
    if (result.ok) {
      track.successes += 1;
      track.failures = 0;
    } else {
      track.failures += 1;
      track.successes = 0;
    }
    const next = track.successes >= probe.successThreshold ? 'ready' : track.failures >= probe.failureThreshold ? 'not-ready' : track.state;
    if (next !== track.state) {
      track.state = next;
      const label = loop.label(entry.ref);
      loop.recorder.record(entry.ref, label, next === 'ready' ? { kind: 'ready' } : { kind: 'not-ready', output: result.output });
      changed(entry);
    }
    schedule(entry, track, probe.period);
  }

  return {
    /** After each batch of inputs: a new life starts its checks; an instance no longer running stops them. */
    sync(entries: Iterable<UnitEntry>): void {
      for (const entry of entries) {
        const { phase, generation } = entry.state;
        const probe = loop.units.get(entry.ref.id) === entry ? loop.service(entry.ref.service)?.readiness : undefined;
        const track = tracks.get(entry);
        if (phase !== 'running' || !probe) {
          if (track) {
            stop(entry);
            changed(entry);
          }
          continue;
        }
        if (track?.generation === generation) continue;
        stop(entry);
        const fresh: Track = { generation, state: 'pending', successes: 0, failures: 0, output: '', cancel: () => {} };
        tracks.set(entry, fresh);
        schedule(entry, fresh, probe.initialDelay);
      }
    },

    readinessOf(entry: UnitEntry): Readiness {
      if (!loop.service(entry.ref.service)?.readiness) return null;
      const track = tracks.get(entry);
      return track ? { state: track.state, output: track.output } : { state: 'pending', output: '' };
    },

    close(): void {
      for (const entry of [...tracks.keys()]) stop(entry);
    },
  };
}
