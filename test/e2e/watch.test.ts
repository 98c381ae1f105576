// Watch mode against the real bin: a change to a watched file restarts the service once per
// burst; a change elsewhere, or below node_modules, does not.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

test('watch: a changed source restarts the service once per burst; node_modules and unmatched files do not', async (t) => {
  const d = daemonProject(t, {
    'src/app/main.txt': 'one\n',
    'node_modules/dep/index.txt': 'x\n',
    'README.md': 'readme\n',
    'tend.yaml': `services:\n  web:\n    command: ${JSON.stringify(nodeFixture('forever.mjs', 'graceful'))}\n    watch: ["src/**/*.txt", "node_modules/**/*.txt"]\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const first = (await d.pids()).web;
  // Unmatched, and below node_modules (never walked, even when a glob names it): nothing happens.
  fs.writeFileSync(path.join(d.dir, 'README.md'), 'changed\n');
  fs.writeFileSync(path.join(d.dir, 'node_modules', 'dep', 'index.txt'), 'changed\n');
  // A burst of changes to a watched file: one restart.
  for (let i = 0; i < 5; i += 1) fs.writeFileSync(path.join(d.dir, 'src', 'app', 'main.txt'), `change ${i}\n`);
  await waitFor(
    async () => {
      const pid = (await d.pids()).web;
      return pid !== null && pid !== first;
    },
    { what: 'web restarted' },
  );
  const status = (await d.status()).units[0];
  assert.equal(status?.restarts, 1, 'one restart for the burst');
  // A directory made later is watched too.
  const second = (await d.pids()).web;
  fs.mkdirSync(path.join(d.dir, 'src', 'new'));
  // Its watch is set on the directory's own event: write until a change is seen.
  await waitFor(
    async () => {
      fs.writeFileSync(path.join(d.dir, 'src', 'new', 'x.txt'), `${Date.now()}\n`);
      const pid = (await d.pids()).web;
      return pid !== null && pid !== second;
    },
    { what: 'web restarted for a file in a new directory' },
  );
});
