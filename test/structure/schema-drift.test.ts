// schema/tend.schema.json is generated from src/config/schema.ts and committed, so editors can
// use it without building tend. This test fails when the two drift apart.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { packageRoot, schemaFileText } from '../../src/config/write-schema.js';

test('schema/tend.schema.json matches the schema in src/config/schema.ts', () => {
  const file = nodePath.join(packageRoot(), 'schema', 'tend.schema.json');
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  assert.ok(
    committed === schemaFileText(),
    `${file} is out of date with src/config/schema.ts: run \`npm run schema\` and commit the result`,
  );
});
