// The dependency rule of CONVENTIONS.md §3.2, kept by a test rather than by goodwill: every
// import in src/ is checked against the matrix, value imports and `import type` told apart; a
// dynamic `import('./x.js')` loads the module, so it counts as a value import.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';

type Rule = { value: readonly string[]; type: readonly string[] };
const base = ['lib', 'errors'];
// Module → the src/ modules it may import (by value, and additionally by type only).
const rules: Record<string, Rule> = {
  lib: { value: [], type: [] },
  errors: { value: [], type: [] },
  core: { value: ['lib'], type: ['config/schema'] },
  config: { value: base, type: [] },
  // host: processes and their output — the data plane writes the log files (logs/unit-logs).
  host: { value: [...base, 'logs/unit-logs'], type: [] },
  logs: { value: base, type: ['host/host', 'api/protocol'] },
  api: { value: base, type: [] },
  // runtime: the project's private dir, lock and state file — shared by engine, CLI and keeper.
  runtime: { value: [...base, 'host/proc', 'host/cgroup', 'host/end-groups'], type: ['host/host'] },
  engine: { value: [...base, 'core', 'config', 'host', 'logs', 'api', 'runtime'], type: [] },
  // cli reads /proc (host/proc) only to see that a process has exited; it never drives processes.
  // From the keeper protocol it reads the engine's capabilities (constants and types).
  cli: {
    value: [
      ...base,
      'api',
      'config',
      'engine',
      'logs/terminal',
      'logs/log-files',
      'host/proc',
      'host/cgroup',
      'host/keeper-protocol',
      'runtime',
    ],
    type: [],
  },
  // The keeper must keep working across engine upgrades: mechanism only (processes, log files,
  // the runtime dir), never engine, config or core.
  keeper: { value: [...base, 'host', 'runtime'], type: [] },
  main: { value: ['cli', 'lib'], type: [] },
  // ui: the dashboard's browser code. It runs in the browser, so nothing with Node in it: the
  // API's types and the CLI's pure phrasing (so both say things alike), nothing else.
  ui: { value: ['cli/render/notice', 'cli/render/reload'], type: ['api/protocol'] },
};

function moduleOf(file: string): string {
  const first = file.split('/')[0] ?? '';
  return first.replace(/\.ts$/, '');
}

/** Every relative import of a source file: static (`import type` told apart) and dynamic. */
function importsOf(text: string): { specifier: string; isType: boolean }[] {
  const found = [...text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => ({
    specifier: m[3] ?? '',
    isType: m[2] !== undefined,
  }));
  for (const m of text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)) found.push({ specifier: m[1] ?? '', isType: false });
  return found;
}

function allowed(target: string, list: readonly string[], self: string): boolean {
  return target.startsWith(`${self}/`) || target === self || list.some((entry) => target === entry || target.startsWith(`${entry}/`));
}

test('every import in src/ follows the dependency rule', () => {
  const src = path.join(repoRoot(), 'src');
  const files = (fs.readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const violations: string[] = [];
  for (const file of files) {
    const self = moduleOf(file);
    const rule = rules[self];
    assert.ok(rule, `src/${file}: module "${self}" has no row in the dependency matrix`);
    const text = fs.readFileSync(path.join(src, file), 'utf8');
    for (const { specifier, isType } of importsOf(text)) {
      const target = path.relative(src, path.resolve(path.dirname(path.join(src, file)), specifier)).replace(/\.js$/, '');
      const ok = allowed(target, rule.value, self) || (isType && allowed(target, rule.type, self));
      if (!ok) violations.push(`src/${file} imports ${isType ? 'type ' : ''}${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the import scan sees static, type-only and dynamic imports', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "export { c } from './c.js';",
    "const { d } = await import('../d/d.js');",
    "const [e] = await Promise.all([import('./e.js'), import('node:fs')]);",
  ].join('\n');
  assert.deepEqual(importsOf(text), [
    { specifier: './a.js', isType: false },
    { specifier: '../b/b.js', isType: true },
    { specifier: './c.js', isType: false },
    { specifier: '../d/d.js', isType: false },
    { specifier: './e.js', isType: false },
  ]);
});

test('every row of the dependency matrix names a module that exists in src/', () => {
  const src = path.join(repoRoot(), 'src');
  const missing = Object.keys(rules).filter((name) => !fs.existsSync(path.join(src, name)) && !fs.existsSync(path.join(src, `${name}.ts`)));
  assert.deepEqual(missing, []);
});
