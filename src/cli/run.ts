// The CLI edge (vitest's reportStartError): parse argv with the verb table, run the verb, and
// decide how errors look. A TendError prints its sentence and hint with its exit code; anything
// else is a bug: "internal error" and exit 1, with the stack only under --debug.
import { parseArgs } from 'node:util';
import { didYouMean } from '../config/phrasing.js';
import { isTendError, TendError } from '../errors.js';
import type { Io, OptionSpec, Verb } from './verb.js';
import { globalOptions, verbs } from './verbs.js';
import { version } from './version.js';

export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (isTendError(error)) {
      for (const line of error.details) io.stderr.write(`${line}\n`);
      io.stderr.write(`tend: ${error.message}\n`);
      if (error.hint) io.stderr.write(`  hint: ${error.hint}\n`);
      if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`tend: internal error: ${message} (run again with --debug for details)\n`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  // What comes before the verb is global (-f is the config file there, `tend -f ops/tend.yaml
  // logs -f` included); what follows is the verb's, where its own short flags win.
  const at = verbIndex(argv);
  const word = at < 0 ? undefined : argv[at];
  const verb = verbs.find((candidate) => candidate.name === word);
  const before = parseUsage(at < 0 ? argv : argv.slice(0, at), globalOptions);
  const after = parseUsage(at < 0 ? [] : argv.slice(at), optionsFor(verb));
  const values = { ...before.values, ...after.values };
  const positionals = after.positionals;
  if (values.version) {
    io.stdout.write(`tend ${version()}\n`);
    return 0;
  }
  if (word === 'help') return help(positionals.slice(1), io);
  if (!verb) {
    io.stdout.write(values.help || word === undefined ? mainHelp() : '');
    if (word !== undefined) throw unknownVerb(word);
    return values.help ? 0 : 2;
  }
  if (values.help) {
    io.stdout.write(verbHelp(verb));
    return 0;
  }
  const rest = positionals.slice(1);
  if (verb.args === '' && rest.length > 0) throw new TendError('TEND_USAGE', `tend ${verb.name} takes no arguments, got "${rest[0]}"`);
  return verb.run({ values, positionals: rest, io });
}

/** `tend help` and `tend help VERB`, as `tend --help` and `tend VERB --help`. */
function help(words: readonly string[], io: Io): number {
  if (words.length === 0) {
    io.stdout.write(mainHelp());
    return 0;
  }
  const verb = verbs.find((candidate) => candidate.name === words[0]);
  if (!verb) throw unknownVerb(words[0] ?? '');
  io.stdout.write(verbHelp(verb));
  return 0;
}

function unknownVerb(word: string): TendError {
  const near = didYouMean(
    word,
    verbs.filter((verb) => !verb.hidden).map((verb) => verb.name),
  );
  return new TendError('TEND_USAGE', `unknown command "${word}"`, {
    hint: near === undefined ? 'run `tend help` for the list of commands' : `did you mean \`tend ${near}\`?`,
  });
}

/**
 * Global options plus the verb's. A verb's short flag wins over a global one: `tend logs -f`
 * follows (as in tail and journalctl); there the config file is given as --file.
 */
function optionsFor(verb: Verb | undefined): Record<string, OptionSpec> {
  const own = Object.values(verb?.options ?? {}).map((spec) => spec.short);
  const globals = Object.entries(globalOptions).map(([name, spec]): [string, OptionSpec] =>
    own.includes(spec.short) ? [name, { type: spec.type, description: spec.description }] : [name, spec],
  );
  return { ...Object.fromEntries(globals), ...verb?.options };
}

/** Where the verb is: the first word that is neither a flag nor the value of -f/--file; -1 if none. */
function verbIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-f' || arg === '--file') i++;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

function parseUsage(argv: readonly string[], options: Record<string, OptionSpec>) {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
  );
  try {
    return parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    // util.parseArgs errors are already one plain sentence, e.g. "Unknown option '--x'".
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, '') : String(error);
    throw new TendError('TEND_USAGE', message);
  }
}

function optionLines(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
      return `  ${flag.padEnd(24)} ${spec.description}`;
    })
    .join('\n');
}

function mainHelp(): string {
  const width = Math.max(...verbs.map((verb) => verb.name.length));
  const list = verbs
    .filter((verb) => !verb.hidden)
    .map((verb) => `  ${verb.name.padEnd(width)}  ${verb.summary}`)
    .join('\n');
  return `tend — a process supervisor: starts your services, keeps them alive, keeps their logs.

Usage: tend [-f FILE] COMMAND [options]

Commands:
${list}

Options:
${optionLines(globalOptions)}

Exit codes: 0 ok, 1 failure, 2 bad usage or invalid config, 3 nothing running.
Run \`tend help COMMAND\` (or \`tend COMMAND --help\`) for the options of one command.
`;
}

function verbHelp(verb: Verb): string {
  const usage = `tend ${verb.name}${verb.args ? ` ${verb.args}` : ''} [options]`;
  const own = Object.keys(verb.options).length > 0 ? `\nOptions:\n${optionLines(verb.options)}\n` : '';
  return `Usage: ${usage}\n\n${verb.summary}\n\n${verb.details}\n${own}\nGlobal options:\n${optionLines(globalOptions)}\n`;
}

function processIo(): Io {
  return { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr };
}
