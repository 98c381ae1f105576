// `npm run schema`: writes toJsonSchema() to schema/tend.schema.json at the package root, the file
// editors point at and test/structure/schema-drift.test.ts compares against. Nothing else.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from './schema.js';

/** The exact bytes of the committed file: 2-space JSON and a trailing newline. */
export function schemaFileText(): string {
  return `${JSON.stringify(toJsonSchema(), null, 2)}\n`;
}

/** The nearest directory above this module holding package.json (works from dist/ and .build-test/). */
export function packageRoot(from: string = nodePath.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = nodePath.dirname(dir)) {
    if (fs.existsSync(nodePath.join(dir, 'package.json'))) return dir;
    if (nodePath.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const isMain = process.argv[1] !== undefined && nodePath.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const target = nodePath.join(packageRoot(), 'schema', 'tend.schema.json');
  fs.mkdirSync(nodePath.dirname(target), { recursive: true });
  fs.writeFileSync(target, schemaFileText());
  process.stdout.write(`wrote ${target}\n`);
}
