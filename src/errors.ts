// The catalogue of expected operational failures (fastify's errors.js shape): one code, one
// message template, one exit code, one HTTP status. Config problems are NOT here — they are
// Diagnostic data (config/diagnostics.ts); bugs are not here either — they stay plain Errors.

export type ExitCode = 1 | 2 | 3;

interface Entry {
  readonly message: (arg: string) => string;
  readonly exitCode: ExitCode;
  readonly status: number;
  readonly hint?: string;
}

export const catalogue = {
  TEND_CONFIG_NOT_FOUND: {
    message: (where) => `no tend.yaml, tend.yml, tend.json or tend.toml found in ${where} or any parent directory`,
    exitCode: 2,
    status: 400,
    hint: 'create one, or pass its path with -f FILE (or TEND_FILE)',
  },
  TEND_CONFIG_UNREADABLE: {
    message: (detail) => `cannot read the config file: ${detail}`,
    exitCode: 2,
    status: 400,
  },
  TEND_CONFIG_INVALID: {
    message: (detail) => `the config is invalid: ${detail}`,
    exitCode: 2,
    status: 400,
    hint: 'run `tend check` to see every problem with its position',
  },
  TEND_USAGE: {
    message: (detail) => detail,
    exitCode: 2,
    status: 400,
    hint: 'run `tend --help` for the list of commands and flags',
  },
  TEND_UNKNOWN_SERVICE: {
    message: (name) => `there is no service named "${name}" in the config`,
    exitCode: 1,
    status: 404,
  },
  TEND_HAS_DEPENDENTS: {
    message: (detail) => `refusing to stop ${detail}`,
    exitCode: 1,
    status: 409,
    hint: 'pass --with-dependents to stop them too (they stop first), or stop them yourself',
  },
  TEND_NO_ENGINE: {
    message: (file) => `no engine is running for ${file}`,
    exitCode: 3,
    status: 503,
    hint: 'start one with `tend up -d`',
  },
  TEND_ALREADY_RUNNING: {
    message: (detail) => `an engine is already running for ${detail}`,
    exitCode: 1,
    status: 409,
    hint: 'use `tend ps` to see it, `tend reload` to apply a changed config, or `tend down` to stop it',
  },
  TEND_ENGINE_START_FAILED: {
    message: (detail) => `the engine could not start: ${detail}`,
    exitCode: 1,
    status: 500,
  },
  TEND_RELOAD_REJECTED: {
    message: (detail) => `reload rejected, the running config stays in force: ${detail}`,
    exitCode: 2,
    status: 400,
    hint: 'fix the problems listed above and run `tend reload` again',
  },
  TEND_UPGRADE_REFUSED: {
    message: (reason) => `upgrade refused, the running engine stays: ${reason}`,
    exitCode: 1,
    status: 409,
  },
  TEND_RUNTIME_DIR: {
    message: (detail) => `unsafe or unusable runtime directory: ${detail}`,
    exitCode: 1,
    status: 500,
    hint: 'the runtime directory must belong to you with mode 0700; set XDG_RUNTIME_DIR or TEND_RUNTIME_DIR to another one',
  },
  TEND_ENGINE_UNREACHABLE: {
    message: (detail) => `cannot talk to the engine: ${detail}`,
    exitCode: 1,
    status: 502,
  },
  TEND_API_UNAUTHORIZED: {
    message: () => 'a valid bearer token is required',
    exitCode: 1,
    status: 401,
    hint: 'send "Authorization: Bearer <token>" with the token from the api.token file in the runtime directory',
  },
  TEND_API_FORBIDDEN: {
    message: (detail) => `request refused: ${detail}`,
    exitCode: 1,
    status: 403,
  },
  TEND_API_NOT_FOUND: {
    message: (route) => `no such API route: ${route}`,
    exitCode: 1,
    status: 404,
  },
  TEND_API_BAD_REQUEST: {
    message: (detail) => `bad request: ${detail}`,
    exitCode: 2,
    status: 400,
  },
  TEND_API_SLOW_READER: {
    message: () => 'the stream was ended because this reader fell too far behind',
    exitCode: 1,
    status: 200,
    hint: 'read faster, or ask for less (-n, fewer services)',
  },
  TEND_API_BUSY: {
    message: (detail) => `the engine is too busy to take this request: ${detail}`,
    exitCode: 1,
    status: 503,
    hint: 'end some `tend logs -f` / `tend events -f` readers, or try again later',
  },
  TEND_LOG_DIR: {
    message: (detail) => `cannot write logs: ${detail}`,
    exitCode: 1,
    status: 500,
    hint: 'check that the log directory exists and is writable, or set log_dir in the config',
  },
  TEND_LOG_DIR_UNSAFE: {
    message: (detail) => `refusing to use a log file or directory another user could tamper with: ${detail}`,
    exitCode: 1,
    status: 500,
    hint: "keep logs where only you (or root) can write: a directory of yours, mode 0700 (or 0750/0755 for a log reader), with no other user's or group-writable directory above it — e.g. log_dir: /var/log/tend/<project>",
  },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof catalogue;

/** An expected failure: the CLI prints its one sentence (and hint) and exits with its code. */
export class TendError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly status: number;
  readonly hint: string | undefined;
  /** Extra lines for the reader, e.g. the diagnostics of a rejected reload. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, arg = '', options: { cause?: unknown; hint?: string; details?: readonly string[]; message?: string } = {}) {
    const entry: Entry = catalogue[code];
    super(options.message ?? entry.message(arg), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TendError';
    this.code = code;
    this.exitCode = entry.exitCode;
    this.status = entry.status;
    this.hint = options.hint ?? entry.hint;
    this.details = options.details ?? [];
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(catalogue, code);
}

export function isTendError(error: unknown): error is TendError {
  return error instanceof TendError;
}
