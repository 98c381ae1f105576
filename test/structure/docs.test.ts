// Docs kept honest by tests (fastify's errors.test.js): docs/cli.md is the verb table's
// rendering, and docs/errors.md lists exactly the codes of the error catalogue.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cliReference } from '../../src/cli/reference.js';
import { catalogue } from '../../src/errors.js';
import { repoRoot } from '../helpers/fixtures.js';

test('docs/cli.md matches the verb table (run `npm run docs` after changing verbs)', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'cli.md'), 'utf8');
  assert.equal(doc, cliReference());
});

test('docs/errors.md lists every error code, and only those', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(TEND_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(catalogue).sort());
});
