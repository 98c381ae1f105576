// The shape of one CLI verb and what its handler gets. Handlers return an exit code; they never
// exit and never print stack traces (run.ts decides how errors appear).

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly description: string;
}

export interface Io {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export interface VerbInput {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly io: Io;
}

export interface Verb {
  readonly name: string;
  readonly summary: string;
  /** Positionals as shown in usage, e.g. "[NAME...]"; empty when none are taken. */
  readonly args: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** A few lines shown under `tend VERB --help`. */
  readonly details: string;
  /** Internal verbs (the background engine's entry) are left out of help and docs. */
  readonly hidden?: boolean;
  run(input: VerbInput): Promise<number>;
}
