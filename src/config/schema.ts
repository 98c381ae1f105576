// THE schema of tend.yaml. It is the single source of the TypeScript types (z.output), the
// validation (safeParse → issues that diagnostics.ts turns into positioned sentences) and the
// JSON Schema for editors (toJsonSchema, committed as schema/tend.schema.json, drift-tested).
// Durations and sizes are written as strings in the file and come out as numbers (ms, bytes).
import { z } from 'zod';
import { parseDuration, parseSignal, parseSize, stopSignals } from './units.js';

const duration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === null) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected a duration like 250ms, 10s, 5m or 1h, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration: 250ms, 10s, 5m, 1h (or a number of milliseconds).' });

const size = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === null) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected a size like 512K, 10M or 1G, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return bytes;
  })
  .meta({ description: 'A size in bytes: 512K, 10M, 1G (or a number of bytes).' });

const signal = z
  .string()
  .transform((value, ctx) => {
    const name = parseSignal(value);
    if (name === null) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `expected a signal name such as SIGTERM, SIGINT or SIGQUIT, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return name;
  })
  .meta({ description: `A signal name: ${stopSignals.join(', ')} (the SIG prefix is optional).` });

const count = (min: number) => z.number().int().min(min);

const command = z
  .union([
    z.string().trim().min(1, { error: 'the command is empty' }),
    z.array(z.string()).min(1, { error: 'the command is empty' }),
  ])
  .refine((value) => typeof value === 'string' || (value[0] ?? '').trim() !== '', {
    error: 'the command is empty: its first element must name a program',
  })
  .meta({
    description:
      'An argv array runs the program directly, with no shell. A string runs under /bin/sh -c (so pipes and $VARS work).',
  });

const restart = z.enum(['always', 'on-failure', 'never']).meta({
  description: 'always: restart whenever it exits; on-failure: only after a non-zero exit or an unclean signal; never.',
});

const backoff = z.strictObject({
  initial: duration.default(100).describe('Delay before the first restart (0 restarts at once). Default 100ms.'),
  max: duration.default(30_000).describe('Upper bound of the exponential delay. Default 30s.'),
  reset_after: duration
    .default(60_000)
    .describe('A run at least this long resets the delay to `initial`. Default 60s.'),
});

const startLimit = z.strictObject({
  burst: count(1).default(10).describe('At most this many starts within `interval`; one more parks the service in fatal. Default 10.'),
  interval: duration.default(60_000).describe('The window for `burst`. Default 60s.'),
});

const stop = z.strictObject({
  signal: signal.default('SIGTERM').describe('Sent to the whole process group to stop it. Default SIGTERM.'),
  timeout: duration.default(10_000).describe('Then SIGKILL to the group. Default 10s.'),
});

const logs = z.strictObject({
  file: z.string().min(1).optional().describe('Log file of this service. Default <log_dir>/<name>.log.'),
  max_size: size.default(10 * 1024 * 1024).describe('Rotate the file when it reaches this size. Default 10M.'),
  keep: count(0).default(5).describe('Rotated files kept. Default 5.'),
});

export const serviceSchema = z.strictObject({
  command,
  cwd: z.string().min(1).optional().describe('Working directory, relative to the config file. Default: its directory.'),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({})
    .describe('Extra environment variables; they override env_file and the environment tend runs in.'),
  env_file: z.union([z.string().min(1), z.array(z.string().min(1))]).optional()
    .describe('KEY=VALUE file(s), relative to the config file; later files and `env` win.'),
  instances: count(0).default(1).describe('Copies to run: NAME.0, NAME.1, ... each with TEND_INSTANCE set. Default 1.'),
  restart: restart.default('on-failure'),
  backoff: backoff.prefault({}),
  start_limit: startLimit.prefault({}),
  stop: stop.prefault({}),
  logs: logs.prefault({}),
});

export const configSchema = z.strictObject({
  version: z.literal(1).optional().describe('Config format version; only 1 exists.'),
  log_dir: z.string().min(1).optional().describe('Where log and event files go, relative to the config file. Default .tend/logs.'),
  services: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
        error: 'a service name may hold letters, digits, - and _ and must start with a letter or digit',
      }),
      serviceSchema,
    )
    .describe('The services to run, by name.'),
});

/** A service as the file says it, with defaults applied and units converted (ms, bytes). */
export type ServiceSpec = z.output<typeof serviceSchema>;
export type ConfigSpec = z.output<typeof configSchema>;
export type RestartPolicy = ServiceSpec['restart'];

/** The JSON Schema for editors: the input side (strings like "10s"), not the parsed numbers. */
export function toJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/**
 * A service ready to run: what load.ts makes of a ServiceSpec once the file is read. Paths are
 * absolute, env_file is merged into env (env wins), and a string command became
 * ["/bin/sh", "-c", command]. `env` holds only what the config adds, not tend's own environment.
 */
export interface ServiceConfig extends Omit<ServiceSpec, 'command' | 'cwd' | 'env' | 'env_file' | 'logs'> {
  readonly name: string;
  readonly argv: readonly string[];
  readonly shell: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logs: ServiceSpec['logs'] & { readonly file: string };
}

export interface Config {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** Absolute directory of log and event files. */
  readonly logDir: string;
  /** In the order the file lists them. */
  readonly services: readonly ServiceConfig[];
}
