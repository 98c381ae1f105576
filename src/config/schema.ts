// THE schema of tend.yaml. It is the single source of the TypeScript types (z.output), the
// validation (safeParse → issues that diagnostics.ts turns into positioned sentences) and the
// JSON Schema for editors (toJsonSchema, committed as schema/tend.schema.json, drift-tested).
// Durations and sizes are written as strings in the file and come out as numbers (ms, bytes).
import type { z as Z } from 'zod';
import { z } from './zod.js';
import { cronProblem } from './cron.js';
import { formatHost, isLoopback, listenPattern, parseListen, type ListenAddress } from './listen.js';
import { MAX_DURATION_MS, MAX_INSTANCES } from './limits.js';
import { describeValue, suggestion } from './phrasing.js';
import { durationPattern, spellDuration, isBareNumber, parseDuration, parseSignal, parseSize, sizePattern, stopSignals } from './units.js';

/** Every message here is "expected WHAT, got VALUE"; diagnostics.ts prefixes the key path. */
const expecting = (what: string) => (issue: { readonly input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}`;

/** A custom issue with a stable diagnostic code in params (diagnostics.ts reads params.code). */
function report(ctx: Z.RefinementCtx, code: string, input: unknown, message: string, path?: PropertyKey[]): void {
  ctx.addIssue({ code: 'custom', input, message, params: { code }, ...(path ? { path } : {}) });
}

/**
 * The diagnostic code for every failure of a schema that means one thing whatever went wrong
 * (a duration written as `true` is as much an invalid-duration as "10 parsecs"). diagnostics.ts
 * reads it; a registry, not metadata, so it stays out of the JSON Schema.
 */
export const diagnosticCodes = z.registry<{ code: string }>();

/** "expected a duration ..., got 10 (add a unit: "10s" or "10ms")": a bare number gets the hint. */
function durationMessage(input: unknown): string {
  const bare = String(input).trim();
  const unit = isBareNumber(input) ? ` (add a unit: "${bare}s" or "${bare}ms")` : '';
  return `${expecting('a duration like 250ms, 10s, 5m or 1h')({ input })}${unit}`;
}

const duration = z
  .union([z.string().meta({ pattern: durationPattern.source }), z.literal(0)], { error: (issue) => durationMessage(issue.input) })
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms !== null && ms <= MAX_DURATION_MS) return ms;
    if (ms !== null) {
      report(ctx, 'invalid-duration', value, `expected a duration of at most 24h, got ${describeValue(value)}`);
      return z.NEVER;
    }
    report(ctx, 'invalid-duration', value, durationMessage(value));
    return z.NEVER;
  })
  .meta({ description: 'A duration: 250ms, 10s, 5m, 1h, 1m30s (or 0). A bare number is refused: its unit would be a guess.' });
diagnosticCodes.add(duration, { code: 'invalid-duration' });

const sizeWords = 'a size like 512K, 10M or 1G';
const size = z
  .union([z.string().meta({ pattern: sizePattern.source }), z.number()], { error: expecting(sizeWords) })
  .transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes !== null && bytes > 0) return bytes;
    report(ctx, 'invalid-size', value, expecting(bytes === 0 ? 'a size greater than 0' : sizeWords)({ input: value }));
    return z.NEVER;
  })
  .meta({ description: 'A size in bytes: 512K, 10M, 1G (or a number of bytes).' });
diagnosticCodes.add(size, { code: 'invalid-size' });

const signal = z
  .string({ error: expecting('a signal name such as SIGTERM') })
  .transform((value, ctx) => {
    const name = parseSignal(value);
    if (name !== null) return name;
    const words = `a signal name such as SIGTERM, SIGINT or SIGQUIT`;
    report(ctx, 'invalid-signal', value, `${expecting(words)({ input: value })}${suggestion(value.toUpperCase(), stopSignals)}`);
    return z.NEVER;
  })
  .meta({ description: `A signal name: ${stopSignals.join(', ')} (the SIG prefix is optional).` });
diagnosticCodes.add(signal, { code: 'invalid-signal' });

const count = (min: number, max: number) => {
  const words = `an integer from ${min} to ${max}`;
  return z
    .number({ error: expecting(words) })
    .int({ error: expecting(words) })
    .min(min, { error: expecting(words) })
    .max(max, { error: expecting(words) });
};
const path = (what: string) => z.string({ error: expecting(what) }).min(1, { error: expecting(what) });

const command = z
  .union([z.string(), z.array(z.string({ error: expecting('a string') }))], {
    error: expecting('a command: a string, or a list of strings with the program first'),
  })
  .superRefine((value, ctx) => {
    if (typeof value === 'string' ? value.trim() === '' : value.length === 0) {
      report(ctx, 'empty-command', value, 'the command is empty');
    } else if (Array.isArray(value) && (value[0] ?? '').trim() === '') {
      report(ctx, 'empty-command', value[0], 'the program name is empty', [0]);
    }
  })
  .meta({
    description: 'An argv array runs the program directly, with no shell. A string runs under /bin/sh -c (so pipes and $VARS work).',
  });

const restart = z.enum(['always', 'on-failure', 'never']).meta({
  description: 'always: restart whenever it exits; on-failure: unless it exited 0 or by a clean signal; never.',
});

const backoff = z
  .strictObject(
    {
      initial: duration.prefault('100ms').describe('Delay before the first restart (0 restarts at once). Default 100ms.'),
      max: duration.prefault('30s').describe('Upper bound of the exponential delay. Default 30s.'),
      reset_after: duration.prefault('60s').describe('A run at least this long resets the delay to `initial`. Default 60s.'),
    },
    { error: expecting('a map with initial, max and reset_after') },
  )
  .superRefine((value, ctx) => {
    if (value.max < value.initial) {
      report(
        ctx,
        'invalid-value',
        value.max,
        `must be at least initial (${spellDuration(value.initial)}), got ${spellDuration(value.max)}`,
        ['max'],
      );
    }
  });

const startLimit = z.strictObject(
  {
    burst: count(1, 1_000_000).default(10).describe('More than this many starts within `interval` parks the service in fatal. Default 10.'),
    interval: duration.prefault('60s').describe('The window for `burst`. Default 60s.'),
  },
  { error: expecting('a map with burst and interval') },
);

const stop = z.strictObject(
  {
    signal: signal.prefault('SIGTERM').describe('Sent to the whole process group to stop it. Default SIGTERM.'),
    timeout: duration.prefault('10s').describe('Then SIGKILL to the group. Default 10s.'),
  },
  { error: expecting('a map with signal and timeout') },
);

const logModeWords = '"0600", "0640" or "0644" (log files may be made readable, never writable by others)';
const logMode = z.union([z.string(), z.number()], { error: expecting(logModeWords) }).transform((value, ctx) => {
  // 640 as a YAML number means the octal digits the user wrote, as chmod reads them.
  const text = String(value).replace(/^0o?/, '');
  const mode = /^[0-7]{3}$/.test(text) ? Number.parseInt(text, 8) : NaN;
  if (mode === 0o600 || mode === 0o640 || mode === 0o644) return mode;
  report(ctx, 'invalid-value', value, expecting(logModeWords)({ input: value }));
  return z.NEVER;
});

const logs = z.strictObject(
  {
    file: path('a file path').optional().describe('Log file of this service, relative to the config file. Default <log_dir>/<name>.log.'),
    max_size: size.prefault('10M').describe('Rotate the file when it reaches this size. Default 10M.'),
    keep: count(0, 1000).default(5).describe('Rotated files kept. Default 5.'),
    // Optional rather than .default(false): an absent key and false mean the same, and configs
    // written before the key existed keep comparing equal.
    compress: z
      .boolean({ error: expecting('true or false') })
      .optional()
      .meta({ default: false })
      .describe('Gzip rotated files other than the newest, in the background (file.2.gz …; file.1 stays plain). Default false.'),
    mode: logMode
      .optional()
      .describe(
        'Who may read the log files: "0600" (default: only tend\'s user), "0640" (also `group`) or "0644" (everyone). Never writable by others.',
      ),
    group: z
      .union([z.string().min(1), count(0, 2 ** 31 - 1)], { error: expecting('a group name or number') })
      .optional()
      .describe('Group of the log files (with mode "0640", e.g. a log shipper\'s group). Default: tend\'s own.'),
  },
  { error: expecting('a map with file, max_size, keep, compress, mode and group') },
);

const envName = z.string().refine((name) => name !== '' && !name.includes('=') && !name.includes('\0'), {
  error: (issue) => `bad variable name ${describeValue(issue.input)}: a name must not be empty or hold "="`,
});
const envValue = z.union([z.string(), z.number(), z.boolean()], { error: expecting('a string, number or boolean') }).transform(String);

/** What a dependent waits for: the dependency running, ready (its readiness probe passes), or finished with success (a migration). */
const dependencyCondition = z.enum(['started', 'ready', 'completed'], { error: expecting('"started", "ready" or "completed"') });
const dependencyName = z.string().min(1, { error: expecting('a service name') });
const dependsOn = z
  .union(
    [
      z.array(dependencyName, { error: expecting('a list of service names') }),
      z.record(
        dependencyName,
        z.strictObject(
          {
            condition: dependencyCondition
              .default('started')
              .describe(
                'started (every instance running), ready (every instance running and passing its readiness probe) or completed (every instance exited with success). Default started.',
              ),
            restart: z
              .boolean({ error: expecting('true or false') })
              .default(false)
              .describe(
                'Restart this service when the dependency comes back from a restart (once its condition holds again). Default false.',
              ),
          },
          { error: expecting('a map with condition and restart') },
        ),
        { error: expecting('a map of service names to { condition }') },
      ),
    ],
    { error: expecting('a list of service names, or a map of service names to { condition }') },
  )
  .optional()
  .describe(
    'Services that must be up first: a list of names (condition started) or a map of names to { condition: started | ready | completed }. `up` starts each service once its conditions hold; `down` stops dependents first.',
  );

const cronExpression = z.string({ error: expecting('a cron expression such as "0 3 * * *"') }).superRefine((value, ctx) => {
  const problem = cronProblem(value, undefined);
  if (problem !== null) report(ctx, 'invalid-schedule', value, problem);
});
diagnosticCodes.add(cronExpression, { code: 'invalid-schedule' });

/** When a job runs: a cron expression, or one with its time zone and what to do when the last run still goes on. */
const schedule = z
  .union(
    [
      cronExpression,
      z
        .strictObject(
          {
            cron: z
              .string({ error: expecting('a cron expression such as "0 3 * * *"') })
              .describe('When it runs: 5 fields (minute hour day month weekday), or 6 with seconds first.'),
            timezone: z
              .string()
              .optional()
              .describe('The IANA time zone the expression is read in ("Europe/Berlin"). Default: the machine\'s.'),
            overlap: z
              .enum(['skip', 'queue'], { error: expecting('"skip" or "queue"') })
              .default('skip')
              .describe('When the last run still goes on: skip this one (default), or run once more right after it.'),
          },
          { error: expecting('a map with cron, timezone and overlap') },
        )
        .superRefine((value, ctx) => {
          const problem = cronProblem(value.cron, value.timezone);
          if (problem !== null)
            report(ctx, 'invalid-schedule', value.cron, problem, [problem.startsWith('unknown time zone') ? 'timezone' : 'cron']);
        }),
    ],
    { error: expecting('a cron expression, or a map with cron, timezone and overlap') },
  )
  .optional()
  .describe(
    'Run this service on a schedule (a job): `up` does not start it, the schedule does. A cron expression or { cron, timezone, overlap }.',
  );

const alertKinds = ['fatal', 'flapping', 'liveness', 'blocked', 'failed', 'recovered'] as const;

/** Where an operator is told: a command (the event as JSON on stdin) or a webhook (a JSON POST). */
const notifyTarget = z
  .strictObject(
    {
      on: z
        .array(z.enum(alertKinds, { error: expecting(alertKinds.map((k) => `"${k}"`).join(', ')) }), {
          error: expecting('a list of events'),
        })
        .min(1, { error: 'name at least one event' })
        .default([...alertKinds])
        .describe(
          'Which events: fatal, flapping (5 restarts within 5 minutes), liveness, blocked, failed (a job), recovered. Default all.',
        ),
      log: z
        .string({ error: expecting('a regular expression') })
        .min(1, { error: 'the pattern is empty' })
        .max(512, { error: 'a pattern of at most 512 characters' })
        .optional()
        .describe(
          'Ready once a line of the service\'s own output (since this start) matches this regular expression ("listening on"). Readiness and startup only.',
        ),
      exec: z
        .array(z.string(), { error: expecting('a list of strings: the program, then its arguments') })
        .min(1, { error: 'the command is empty' })
        .optional()
        .describe('Run this command (argv, no shell) with the event as JSON on stdin and as TEND_EVENT_* variables.'),
      webhook: z
        .string({ error: expecting('an http:// or https:// URL') })
        .regex(/^https?:\/\/[^\s/]+/, { error: expecting('an http:// or https:// URL') })
        .optional()
        .describe('POST the event as JSON to this URL. Its credentials and query are never logged.'),
      headers: z
        .record(z.string(), z.string(), { error: expecting('a map of header names to values') })
        .default({})
        .describe('webhook only: request headers (e.g. Authorization).'),
      timeout: duration.prefault('5s').describe('How long one delivery may take (a command is killed then). Default 5s.'),
      retries: count(0, 10).default(3).describe('webhook only: tries after a failed one, 1 s, 2 s, 4 s … apart. Default 3.'),
    },
    { error: expecting('a map with on, and exec or webhook') },
  )
  .superRefine((value, ctx) => {
    const kinds = (['exec', 'webhook'] as const).filter((key) => value[key] !== undefined);
    if (kinds.length !== 1)
      report(
        ctx,
        'invalid-notify',
        value,
        kinds.length === 0 ? 'a notify target needs exec or webhook' : 'a notify target has exec or webhook, not both',
      );
  });
diagnosticCodes.add(notifyTarget, { code: 'invalid-notify' });
const notify = z
  .array(notifyTarget, { error: expecting('a list of notify targets') })
  .max(32, { error: 'at most 32 notify targets' })
  .default([]);

/** A readiness check: exactly one of tcp, http, exec, log or fd, and how often, how long, how many times. */
const probe = z
  .strictObject(
    {
      tcp: z
        .union([z.string(), z.number()], { error: expecting('HOST:PORT or PORT') })
        .optional()
        .describe('Ready when a TCP connection to HOST:PORT (or PORT on 127.0.0.1) succeeds.'),
      http: z
        .string({ error: expecting('an http:// URL') })
        .regex(/^http:\/\/[^\s/]+/, { error: expecting('an http:// URL') })
        .optional()
        .describe('Ready when a GET of this http:// URL answers with a status from `status`.'),
      log: z
        .string({ error: expecting('a regular expression') })
        .min(1, { error: 'the pattern is empty' })
        .max(512, { error: 'a pattern of at most 512 characters' })
        .optional()
        .describe(
          'Ready once a line of the service\'s own output (since this start) matches this regular expression ("listening on"). Readiness and startup only.',
        ),
      exec: z
        .array(z.string(), { error: expecting('a list of strings: the program, then its arguments') })
        .min(1, { error: 'the command is empty' })
        .optional()
        .describe("Ready when this command (argv, no shell; run in the service's directory, environment and account) exits 0."),
      fd: count(3, 63)
        .optional()
        .describe(
          "Ready once the service writes a newline to this file descriptor, which it inherits (s6's notification-fd). Readiness only; the timing settings do not apply.",
        ),
      status: z
        .string({ error: expecting('a status range such as "200-399"') })
        .regex(/^\d{3}(-\d{3})?$/, { error: expecting('a status range such as "200-399"') })
        .default('200-399')
        .describe('http only: the statuses that count as ready, "200-399" (default) or one status ("204").'),
      headers: z
        .record(z.string(), z.string(), { error: expecting('a map of header names to values') })
        .default({})
        .describe('http only: request headers.'),
      initial_delay: duration.prefault('0').describe('Wait this long after the start before the first check. Default 0.'),
      period: duration.prefault('1s').describe('Time between checks. Default 1s.'),
      timeout: duration.prefault('1s').describe('A check that takes longer fails (an exec check is killed). Default 1s.'),
      failure_threshold: count(1, 1000).default(3).describe('Failures in a row that make it not ready. Default 3.'),
      success_threshold: count(1, 1000).default(1).describe('Successes in a row that make it ready. Default 1.'),
    },
    { error: expecting('a map with one of tcp, http, exec, log or fd, and period, timeout, ...') },
  )
  .superRefine((value, ctx) => {
    const kinds = (['tcp', 'http', 'exec', 'log', 'fd'] as const).filter((key) => value[key] !== undefined);
    if (kinds.length !== 1)
      report(
        ctx,
        'invalid-probe',
        value,
        kinds.length === 0
          ? 'a probe needs one of tcp, http, exec, log or fd'
          : `a probe has one of tcp, http, exec, log or fd, not ${kinds.join(' and ')}`,
      );
    if (value.log !== undefined) {
      try {
        new RegExp(value.log);
      } catch (error) {
        report(
          ctx,
          'invalid-probe',
          value.log,
          `not a regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`,
          ['log'],
        );
      }
    }
    if (value.tcp !== undefined && !parseListen(value.tcp).ok)
      report(ctx, 'invalid-probe', value.tcp, expecting('HOST:PORT or PORT')({ input: value.tcp }), ['tcp']);
    const [low = 0, high = low] = value.status.split('-').map(Number);
    if (low > high) report(ctx, 'invalid-value', value.status, `the range ${value.status} is empty`, ['status']);
  });
diagnosticCodes.add(probe, { code: 'invalid-probe' });

const serviceSchema = z.strictObject(
  {
    command,
    cwd: path('a directory path').optional().describe('Working directory, relative to the config file. Default: its directory.'),
    env: z
      .record(envName, envValue, { error: expecting('a map of NAME: value') })
      .default({})
      .describe('Extra environment variables; they override env_file and the environment tend runs in.'),
    env_file: z
      .union([path('a file path'), z.array(path('a file path'))], { error: expecting('a file path or a list of file paths') })
      .optional()
      .describe('KEY=VALUE file(s), relative to the config file; later files and `env` win.'),
    instances: count(0, MAX_INSTANCES).default(1).describe('Copies to run: NAME.0, NAME.1, ... each with TEND_INSTANCE set. Default 1.'),
    increment_env: z
      .union([envName, z.array(envName)], { error: expecting('a variable name or a list of them') })
      .optional()
      .describe(
        "Variables of `env` holding a number that each instance gets plus its index (PM2's increment_var): PORT 3000 is 3000, 3001, ... for NAME.0, NAME.1, ...",
      ),
    restart: restart.default('on-failure'),
    backoff: backoff.prefault({}),
    start_limit: startLimit.prefault({}),
    stop: stop.prefault({}),
    user: z
      .union([z.string().min(1), count(0, 2 ** 31 - 1)], { error: expecting('a user name or number') })
      .optional()
      .describe(
        "Run the service as this user (name or uid), with its groups, HOME, USER and LOGNAME. tend must be root. Default: tend's own user.",
      ),
    group: z
      .union([z.string().min(1), count(0, 2 ** 31 - 1)], { error: expecting('a group name or number') })
      .optional()
      .describe("The service's primary group (name or gid). Default: the user's primary group."),
    depends_on: dependsOn,
    readiness: probe
      .optional()
      .describe(
        'How tend knows an instance is ready: `ps` shows "not ready" until it passes, `up -d` and `start` wait for it, and depends_on condition ready gates on it.',
      ),
    liveness: probe
      .optional()
      .describe(
        'How tend knows an instance still works: failure_threshold failures in a row stop it and restart it by policy (result liveness).',
      ),
    startup: probe
      .optional()
      .describe(
        'Holds readiness and liveness checks off until it passes once; failure_threshold failures in a row restart the instance (for slow starters).',
      ),
    notify: notify.describe('Where to tell an operator about this service, besides the top-level notify.'),
    watch: z
      .array(z.string().min(1, { error: 'a glob must not be empty' }), { error: expecting('a list of globs such as "src/**/*.js"') })
      .max(64, { error: 'at most 64 globs' })
      .default([])
      .describe('Restart the running service when a file matching one of these globs (relative to its cwd) changes, as nodemon does.'),
    watch_ignore: z
      .array(z.string().min(1), { error: expecting('a list of directory names') })
      .default([])
      .describe('Directory names never walked for `watch`, besides node_modules and .git.'),
    schedule,
    cron_restart: cronExpression
      .optional()
      .describe("Restart the running service on this cron schedule (PM2's cron_restart), in the machine's time zone."),
    min_uptime: duration
      .prefault('1s')
      .describe(
        'A start succeeds once the process has run this long (or passed its readiness probe): `up -d` and `start` wait for it, and an exit before is a failed start. Default 1s.',
      ),
    max_memory: size
      .optional()
      .describe(
        'Restart an instance when its whole process group uses more memory (RSS, sampled from /proc) than this. Default: no limit.',
      ),
    logs: logs.prefault({}),
  },
  { error: expecting('a map of settings (command, env, restart, ...)') },
);

const listen = z
  .union([z.string().meta({ pattern: listenPattern.source }), z.number().meta({ type: 'integer', minimum: 0, maximum: 65535 })], {
    error: expecting('PORT, HOST:PORT or [IPv6]:PORT (such as 7070 or 127.0.0.1:7070)'),
  })
  .transform((value, ctx) => {
    const parsed = parseListen(value);
    if (parsed.ok) return parsed.address;
    report(ctx, 'invalid-listen', value, parsed.problem);
    return z.NEVER;
  })
  .meta({
    description: 'Where the control API listens over TCP: PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT. Port 0 picks a free one.',
  });
diagnosticCodes.add(listen, { code: 'invalid-listen' });

const api = z
  .strictObject(
    {
      listen,
      allow_remote: z
        .boolean({ error: expecting('true or false') })
        .default(false)
        .describe('Allow a `listen` host that is not loopback (127.0.0.0/8, ::1, localhost). Default false.'),
    },
    { error: expecting('a map with listen and allow_remote') },
  )
  .transform(({ listen: address, allow_remote }, ctx): ListenAddress => {
    if (allow_remote || isLoopback(address.host)) return address;
    const host = formatHost(address.host);
    report(
      ctx,
      'remote-api',
      address,
      `binding ${host} exposes the control API to the network; set api.allow_remote: true if you mean it`,
      ['listen'],
    );
    return z.NEVER;
  })
  .meta({
    description:
      'A TCP listener for the control API, besides the unix socket. Off when absent. The token is not in the config: TEND_API_TOKEN or a generated file.',
  });

const serviceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
  error: (issue) => `bad service name ${describeValue(issue.input)}: use letters, digits, - and _, starting with a letter or digit`,
});

export const configSchema = z
  .strictObject(
    {
      version: z.literal(1).optional().describe('Config format version; only 1 exists.'),
      log_dir: path('a directory path')
        .optional()
        .describe('Where log and event files go, relative to the config file. Default .tend/logs.'),
      services: z
        .record(serviceName, serviceSchema, { error: expecting('a map of service names to services') })
        .describe('The services to run, by name.'),
      api: api.optional(),
      notify: notify.describe('Where to tell an operator when something goes wrong with any service: a list of { on, exec | webhook }.'),
    },
    { error: expecting('a map with a "services" key') },
  )
  .meta({ title: 'tend config', description: 'The services tend runs: tend.yaml, tend.yml, tend.json or tend.toml.' });

/** A service as the file says it, with defaults applied and units converted (ms, bytes). */
export type ServiceSpec = Z.output<typeof serviceSchema>;
export type ConfigSpec = Z.output<typeof configSchema>;
export type RestartPolicy = ServiceSpec['restart'];

/** The JSON Schema for editors: the input side (strings like "10s"), not the parsed numbers. */
export function toJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  // load.ts drops top-level "x-" keys before validation (anchors to merge from, as in compose).
  return { ...schema, patternProperties: { '^x-': {} } };
}

/**
 * A service ready to run: what load.ts makes of a ServiceSpec once the file is read. Paths are
 * absolute, env_file is merged into env (env wins), and a string command became
 * ["/bin/sh", "-c", command]. `env` holds only what the config adds, not tend's own environment.
 */
/** Who a service runs as, resolved from `user` and `group` (config/accounts.ts). */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  /** The account name, HOME and whether /etc/passwd knows it (then its supplementary groups apply). */
  readonly name: string;
  readonly home: string;
  readonly known: boolean;
}

/** One dependency of a service: which service, and what of it to wait for. */
export interface Dependency {
  readonly service: string;
  readonly condition: 'started' | 'ready' | 'completed';
  /** Restart the dependent when the dependency comes back from a restart. */
  readonly restart: boolean;
}

/** When a job runs, parsed. */
interface Schedule {
  readonly cron: string;
  /** IANA time zone; null = the machine's. */
  readonly timezone: string | null;
  readonly overlap: 'skip' | 'queue';
}

/** A readiness probe, parsed: what to check, and its timing in ms. */
export type Probe = (
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly status: readonly [number, number];
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'log'; readonly pattern: string }
  /** The service says it is ready itself: a newline on this inherited descriptor. */
  | { readonly kind: 'fd'; readonly fd: number }
) & {
  readonly initialDelay: number;
  readonly period: number;
  readonly timeout: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
};

export interface ServiceConfig
  extends Omit<
    ServiceSpec,
    | 'command'
    | 'cwd'
    | 'env'
    | 'env_file'
    | 'logs'
    | 'max_memory'
    | 'user'
    | 'group'
    | 'depends_on'
    | 'readiness'
    | 'liveness'
    | 'startup'
    | 'schedule'
    | 'cron_restart'
    | 'notify'
    | 'watch'
    | 'watch_ignore'
    | 'increment_env'
  > {
  readonly name: string;
  readonly argv: readonly string[];
  readonly shell: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logs: ServiceSpec['logs'] & { readonly file: string; readonly gid?: number };
  /** Bytes, for each instance's whole process group; undefined = no limit. Always present, so configs compare by value. */
  readonly max_memory: number | undefined;
  /** Another user to run as; null = tend's own. Always present, so configs compare by value. */
  readonly runAs: RunAs | null;
  /** What must hold before it starts, in the file's order; [] = nothing. */
  readonly dependsOn: readonly Dependency[];
  /** How it is known to be ready; null = running is ready. */
  readonly readiness: Probe | null;
  /** How it is known to still work; null = running is alive. */
  readonly liveness: Probe | null;
  /** Holds the other two off until it passes; null = none. */
  readonly startup: Probe | null;
  /** A job's schedule; null = `up` starts it. */
  readonly schedule: Schedule | null;
  /** A cron expression to restart it on; null = none. */
  readonly cronRestart: string | null;
  /** Where to tell an operator about it, besides the config's top-level notify. */
  readonly notify: readonly NotifyTarget[];
  /** Globs (relative to cwd) whose changes restart it; [] = none. */
  readonly watch: readonly string[];
  /** Directory names `watch` never walks, besides node_modules and .git. */
  readonly watchIgnore: readonly string[];
  /** Variables of `env` (integers) that each instance gets plus its index; [] = none. */
  readonly incrementEnv: readonly string[];
}

export interface Config {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** Absolute directory of log and event files. */
  readonly logDir: string;
  /** In the order the file lists them. */
  readonly services: readonly ServiceConfig[];
  /** The TCP listener of the control API (IPv6 hosts without brackets); null = unix socket only. */
  readonly api: ListenAddress | null;
  /** Where to tell an operator about any service. */
  readonly notify: readonly NotifyTarget[];
}

export type AlertKind = (typeof alertKinds)[number];

/** A notify target, parsed. */
export type NotifyTarget = {
  readonly on: readonly AlertKind[];
  readonly timeout: number;
} & (
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  | { readonly kind: 'webhook'; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly retries: number }
);
