// Services on a schedule: a job with `schedule` is started at each time its cron expression names
// (`up` leaves it to the schedule), and a service with `cron_restart` is restarted then (PM2's
// cron_restart). Times are wall-clock times by nature — "03:00 in Berlin" — so each run is armed
// for its wall time and checked against the wall clock when the timer fires: a clock set back
// re-arms it, one set forward fires it once and goes on from now; runs missed while no engine
// ran are not caught up (as cron does). When a run comes while the last one still goes on,
// `overlap: skip` lets it pass, `queue` runs once more as soon as the last one has ended.
import { nextRun } from '../config/cron.js';
import type { ServiceConfig } from '../config/schema.js';
import type { Clock } from './clock.js';
import type { Commands } from './commands.js';
import type { Loop, UnitEntry } from './loop.js';

interface Armed {
  /** What it was armed for: re-armed when the config changes it. */
  readonly key: string;
  readonly at: number | null;
  readonly cancel: () => void;
}

const busy = (entry: UnitEntry) => ['starting', 'running', 'stopping'].includes(entry.state.phase);

export function createSchedules(loop: Loop, clock: Clock, commands: Commands) {
  const armed = new Map<string, Armed>();
  const queued = new Set<UnitEntry>();

  const unitsOf = (name: string) => [...loop.units.values()].filter((e) => e.ref.service === name);

  function arm(name: string, key: string, expression: string, timezone: string | null, act: () => void): void {
    const at = nextRun(expression, timezone ?? undefined, clock.wall());
    const fire = (): void => {
      const early = (at ?? 0) - clock.wall();
      if (early > 5) {
        armed.set(name, { key, at, cancel: clock.setTimer(early, fire) }); // the wall clock was set back
        return;
      }
      act();
      arm(name, key, expression, timezone, act);
    };
    armed.set(name, { key, at, cancel: at === null ? () => {} : clock.setTimer(at - clock.wall(), fire) });
  }

  function runJob(service: ServiceConfig): void {
    for (const entry of unitsOf(service.name)) {
      if (!busy(entry)) void commands.command(entry, 'start');
      else if (service.schedule?.overlap === 'queue') queued.add(entry);
      else loop.recorder.record(entry.ref, loop.label(entry.ref), { kind: 'run-skipped', reason: 'the last run still goes on' });
    }
  }

  function restartRunning(service: ServiceConfig): void {
    for (const entry of unitsOf(service.name)) if (entry.state.phase === 'running') void commands.command(entry, 'restart', 'schedule');
  }

  return {
    /** Arm what the config in force schedules; disarm what it no longer does. Call at start and after a reload. */
    sync(): void {
      const wanted = new Map<string, { key: string; act: (service: ServiceConfig) => void; cron: string; timezone: string | null }>();
      for (const service of loop.config().services) {
        if (service.schedule) {
          const { cron, timezone, overlap } = service.schedule;
          wanted.set(service.name, { key: `job ${cron} ${timezone} ${overlap}`, act: runJob, cron, timezone });
        } else if (service.cronRestart) {
          wanted.set(service.name, {
            key: `restart ${service.cronRestart}`,
            act: restartRunning,
            cron: service.cronRestart,
            timezone: null,
          });
        }
      }
      for (const [name, old] of armed) {
        if (wanted.get(name)?.key === old.key) continue;
        old.cancel();
        armed.delete(name);
      }
      for (const [name, { key, act, cron, timezone }] of wanted) {
        if (armed.has(name)) continue;
        arm(name, key, cron, timezone, () => {
          const service = loop.service(name);
          if (service) act(service);
        });
      }
    },

    /** A queued run starts as soon as the last one has ended. */
    changed(entries: ReadonlySet<UnitEntry>): void {
      for (const entry of entries) {
        if (!queued.has(entry) || busy(entry)) continue;
        queued.delete(entry);
        if (loop.units.get(entry.ref.id) === entry) void commands.command(entry, 'start');
      }
    },

    /** When the service's next scheduled run (or restart) is, epoch ms; null when it has none. */
    nextRunOf: (name: string): number | null => armed.get(name)?.at ?? null,

    close(): void {
      for (const { cancel } of armed.values()) cancel();
      armed.clear();
    },
  };
}
