// Cron expressions, by croner (a well-kept, dependency-free parser: 5 or 6 fields, ranges, steps,
// names, L and W, time zones). Loaded on first use only, through require(): a config without a
// schedule — and every CLI verb that loads none — pays nothing for it.
import { createRequire } from 'node:module';
import type { Cron as CronClass } from 'croner';

let Cron: typeof CronClass | undefined;
const cron = (): typeof CronClass => (Cron ??= (createRequire(import.meta.url)('croner') as { Cron: typeof CronClass }).Cron);

/** Null when the expression and time zone are good; else one sentence on what is wrong. */
export function cronProblem(expression: string, timezone: string | undefined): string | null {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      return `unknown time zone ${JSON.stringify(timezone)} (an IANA name such as "Europe/Berlin" or "UTC")`;
    }
  }
  try {
    const schedule = new (cron())(expression, { paused: true, ...(timezone === undefined ? {} : { timezone }) });
    if (schedule.nextRun() === null) return `the schedule ${JSON.stringify(expression)} never fires`;
    return null;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^CronPattern: /, '');
    return `bad cron expression ${JSON.stringify(expression)}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
  }
}

/** The first time after `after` (epoch ms) the expression fires, or null when it never does again. */
export function nextRun(expression: string, timezone: string | undefined, after: number): number | null {
  const schedule = new (cron())(expression, { paused: true, ...(timezone === undefined ? {} : { timezone }) });
  return schedule.nextRun(new Date(after))?.getTime() ?? null;
}
