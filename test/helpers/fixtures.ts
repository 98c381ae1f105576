// Paths to the test fixtures (plain .mjs programs in test/fixtures, not compiled). Tests run
// from .build-test/test/..., so paths are resolved from the repo root, not from this file.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The nearest directory above this module that holds package.json. */
export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  root = dir;
  return dir;
}

/** Absolute path of test/fixtures/NAME. */
export function fixture(name: string): string {
  const path = join(repoRoot(), 'test', 'fixtures', name);
  if (!existsSync(path)) throw new Error(`no fixture ${name} at ${path}`);
  return path;
}

/** argv that runs a fixture with this Node: [node, path, ...args]. */
export function nodeFixture(name: string, ...args: string[]): string[] {
  return [process.execPath, fixture(name), ...args];
}

/** This process's environment as a SpawnSpec env: children inherit the suite's leak marker. */
export function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}
