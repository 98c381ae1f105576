// `npm run docs`: rewrites docs/cli.md from the verb table.
import fs from 'node:fs';
import { cliReference } from './reference.js';

fs.writeFileSync(new URL('../../docs/cli.md', import.meta.url), cliReference());
