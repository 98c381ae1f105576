// ONE table of verbs: name, flags, summary and handler. It drives argument parsing
// (util.parseArgs), `tend --help`, `tend VERB --help` and docs/cli.md (checked by a test).
// Verb modules import heavy code lazily, inside their handlers, so `tend ps` starts fast.
import { checkVerb } from './verbs/check.js';
import { dashboardVerb } from './verbs/dashboard.js';
import { infoVerb } from './verbs/info.js';
import { topVerb } from './verbs/top.js';
import { whyVerb } from './verbs/why.js';
import { engineVerb } from './verbs/engine.js';
import { fleetVerbs } from './verbs/fleet.js';
import { eventsVerb, logsVerb } from './verbs/logs.js';
import { startupVerb } from './verbs/startup.js';
import { upVerb } from './verbs/up.js';
import { upgradeVerb } from './verbs/upgrade.js';
import type { OptionSpec, Verb } from './verb.js';

export const globalOptions: Readonly<Record<string, OptionSpec>> = {
  file: {
    type: 'string',
    short: 'f',
    description:
      'The config file (default: $TEND_FILE, else tend.yaml found from the current directory up). Before the command it is always the file (`tend -f ops/tend.yaml logs -f`); after `logs` and `events`, -f means follow: use --file there.',
  },
  debug: { type: 'boolean', description: 'Print stack traces of internal errors.' },
  help: { type: 'boolean', short: 'h', description: 'Show help.' },
  version: { type: 'boolean', short: 'V', description: 'Print the version.' },
};

export const verbs: readonly Verb[] = [
  upVerb,
  ...fleetVerbs,
  logsVerb,
  eventsVerb,
  whyVerb,
  topVerb,
  dashboardVerb,
  infoVerb,
  checkVerb,
  upgradeVerb,
  startupVerb,
  engineVerb,
];
