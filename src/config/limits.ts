// The bounds of a config, in a module of their own (no zod): the engine checks `tend scale`
// against them without loading the schema.
/**
 * Every number and duration has a bound, so no config (nor `tend scale`) can ask for what hangs
 * tend or overflows a timer: Node's timers hold at most ~24.8 days, and 1,000 processes per
 * service (10,000 in all) is far past what one machine supervises sensibly.
 */
export const MAX_INSTANCES = 1000;
export const MAX_PROCESSES = 10_000;
export const MAX_DURATION_MS = 24 * 3600 * 1000;
