// ONE table of verbs: name, flags, summary and handler. It drives argument parsing
// (util.parseArgs), `tend --help`, `tend VERB --help` and docs/cli.md (checked by a test).
import { checkVerb } from './verbs/check.js';
import { upVerb } from './verbs/up.js';
import type { Verb } from './verb.js';

export const globalOptions = {
  file: { type: 'string', short: 'f', description: 'The config file (default: $TEND_FILE, else tend.yaml found from the current directory up).' },
  debug: { type: 'boolean', description: 'Print stack traces of internal errors.' },
  help: { type: 'boolean', short: 'h', description: 'Show help.' },
  version: { type: 'boolean', short: 'V', description: 'Print the version.' },
} as const;

export const verbs: readonly Verb[] = [upVerb, checkVerb];
