// Docs kept honest by tests (fastify's errors.test.js): docs/cli.md is the verb table's
// rendering, docs/errors.md lists exactly the codes of the error catalogue with the exit code
// each has there, docs/config.md has a row for every key of the schema, and docs/api.md one for
// every route and event kind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cliReference } from '../../src/cli/reference.js';
import { toJsonSchema } from '../../src/config/schema.js';
import { routes } from '../../src/api/protocol.js';
import { catalogue } from '../../src/errors.js';
import { repoRoot } from '../helpers/fixtures.js';

test('docs/cli.md matches the verb table (run `npm run docs` after changing verbs)', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'cli.md'), 'utf8');
  assert.equal(doc, cliReference());
});

test('docs/errors.md lists every error code with its exit code, and only those', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'errors.md'), 'utf8');
  // A row is "| `CODE` | exit | when | how to fix |": "CODE exit" per row, sorted (a duplicate row shows).
  const documented = [...doc.matchAll(/^\| `(TEND_[A-Z_]+)` \| *([^|]*?) *\|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  const expected = Object.entries(catalogue)
    .map(([code, entry]) => `${code} ${entry.exitCode}`)
    .sort();
  assert.deepEqual(documented, expected);
});

/** Every key path of the schema: "log_dir", "api.listen", and for a service "logs.mode". */
function keyPaths(node: Record<string, unknown>, prefix = ''): string[] {
  const found: string[] = [];
  const props = node.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [key, child] of Object.entries(props ?? {})) {
    const name = `${prefix}${key}`;
    const inner = (child.anyOf as Record<string, unknown>[] | undefined)?.find((c) => c.properties) ?? child;
    if (inner.properties && key !== 'services') found.push(...keyPaths(inner, `${name}.`));
    else found.push(name);
  }
  return found;
}

test('docs/config.md has a row for every key of the schema, top level and per service', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'config.md'), 'utf8');
  const schema = toJsonSchema();
  const service = ((schema.properties as Record<string, Record<string, unknown>>).services?.additionalProperties ?? {}) as Record<
    string,
    unknown
  >;
  const missing = [...keyPaths(schema), ...keyPaths(service)].filter((key) => !doc.includes(`| \`${key}\` |`));
  assert.deepEqual(missing, []);
});

test('docs/api.md has a row for every route (method and path) and every event kind, and only those routes', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'api.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| (GET|POST) \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  const expected = Object.values(routes)
    .map((route) => `${route.method} ${route.path}`)
    .sort();
  assert.deepEqual(documented, expected);
  // EventKind is a type, so its kinds are read from the source that declares it.
  const protocol = fs.readFileSync(path.join(repoRoot(), 'src', 'api', 'protocol.ts'), 'utf8');
  const union = protocol.slice(protocol.indexOf('export type EventKind'), protocol.indexOf('export type EventRecord'));
  const kinds = [...union.matchAll(/readonly kind: '([a-z-]+)'/g)].map((m) => m[1]);
  assert.ok(kinds.length > 15, 'the event kinds were found');
  assert.deepEqual(
    kinds.filter((kind) => !doc.includes(`| \`${kind}\` |`)),
    [],
  );
});
