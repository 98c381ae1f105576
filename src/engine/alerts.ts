// Which events are worth telling an operator, and to whom: every event record of the engine is
// read here and turned into an alert when it is one of
//   fatal      the start limit was reached (the service is parked);
//   flapping   FLAP_RESTARTS restarts by policy within FLAP_WINDOW_MS (said once per streak);
//   liveness   a liveness or startup probe failed (the instance is being restarted);
//   blocked    a start waits on a dependency that cannot come;
//   failed     a one-shot job ended without success;
//   recovered  after one of those, the instance ran again for its min_uptime.
// The alert goes to the config's top-level notify targets and the service's own that name it.
// A delivery that fails is an event itself (`notify-failed`), never an alert (no loops).
import os from 'node:os';
import type { EventRecord } from '../api/protocol.js';
import type { AlertKind } from '../config/schema.js';
import type { Clock } from './clock.js';
import type { Loop } from './loop.js';
import { type Alert, createNotifier, describeTarget } from './notify.js';
import { parseUnitId } from './unit-ids.js';

const FLAP_RESTARTS = 5;
const FLAP_WINDOW_MS = 5 * 60_000;

export function createAlerts(loop: Loop, clock: Clock) {
  /** Per unit id: recent restart times (monotonic), whether it flaps, whether an alert awaits its recovery. */
  const units = new Map<string, { restarts: number[]; flapping: boolean; troubled: boolean; cancelRecovery: () => void }>();
  const notifier = createNotifier(clock, (target, alert, reason) => {
    const ref = parseUnitId(alert.unit);
    loop.recorder.record(ref, alert.label, { kind: 'notify-failed', target: describeTarget(target), alert: alert.alert, reason });
  });

  const stateOf = (unit: string) => {
    let state = units.get(unit);
    if (!state) units.set(unit, (state = { restarts: [], flapping: false, troubled: false, cancelRecovery: () => {} }));
    return state;
  };

  function raise(kind: AlertKind, record: EventRecord): void {
    const service = loop.service(record.service);
    const targets = [...loop.config().notify, ...(service?.notify ?? [])].filter((t) => t.on.includes(kind));
    if (targets.length === 0) return;
    const alert: Alert = {
      alert: kind,
      time: record.time,
      service: record.service,
      unit: record.unit,
      label: record.label,
      project: loop.config().file,
      host: os.hostname(),
      event: record,
    };
    notifier.send(targets, alert);
  }

  function trouble(kind: AlertKind, record: EventRecord): void {
    stateOf(record.unit).troubled = true;
    raise(kind, record);
  }

  return {
    /** Every event record passes here. */
    observe(record: EventRecord): void {
      switch (record.kind) {
        case 'fatal':
          return trouble('fatal', record);
        case 'probe-failed':
          return trouble('liveness', record);
        case 'blocked':
          return trouble('blocked', record);
        case 'completed':
          if (record.result !== 'success') trouble('failed', record);
          return;
        case 'restarting': {
          const state = stateOf(record.unit);
          const now = clock.now();
          state.restarts = [...state.restarts.filter((at) => now - at < FLAP_WINDOW_MS), now];
          if (state.restarts.length >= FLAP_RESTARTS && !state.flapping) {
            state.flapping = true;
            trouble('flapping', record);
          }
          return;
        }
        case 'spawned': {
          const state = units.get(record.unit);
          if (!state?.troubled) return;
          // Recovered once this life has run its min_uptime.
          state.cancelRecovery();
          const pid = record.pid;
          const entry = loop.units.get(record.unit);
          const wait = loop.service(record.service)?.min_uptime ?? 1000;
          state.cancelRecovery = clock.setTimer(wait, () => {
            if (entry?.state.phase !== 'running' || entry.state.pid !== pid) return;
            state.troubled = false;
            state.flapping = false;
            state.restarts = [];
            raise('recovered', { ...record, time: new Date(clock.wall()).toISOString() });
          });
          return;
        }
        default:
          return;
      }
    },

    close(): void {
      for (const state of units.values()) state.cancelRecovery();
      notifier.close();
    },
  };
}
