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
  TEND_LOG_DIR: {
    message: (detail) => `cannot write logs: ${detail}`,
    exitCode: 1,
    status: 500,
    hint: 'check that the log directory exists and is writable, or set log_dir in the config',
  },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof catalogue;

/** An expected failure: the CLI prints its one sentence (and hint) and exits with its code. */
export class TendError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly status: number;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, arg = '', options: { cause?: unknown; hint?: string } = {}) {
    const entry: Entry = catalogue[code];
    super(entry.message(arg), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TendError';
    this.code = code;
    this.exitCode = entry.exitCode;
    this.status = entry.status;
    this.hint = options.hint ?? entry.hint;
  }
}

export function isTendError(error: unknown): error is TendError {
  return error instanceof TendError;
}
