import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import { TendError } from '../errors.js';
import { findConfigFile } from './find.js';

// root/tend.toml, root/a/tend.yml + tend.json, root/a/b/c (no config), root/empty/, and a
// directory named tend.yaml that must not count as a file.
const root = fs.realpathSync(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'tend-find-')));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const touch = (path: string) => {
  fs.mkdirSync(nodePath.dirname(nodePath.join(root, path)), { recursive: true });
  fs.writeFileSync(nodePath.join(root, path), 'services: {}\n');
};
touch('tend.toml');
touch('a/tend.json');
touch('a/tend.yml');
touch('a/b/c/.keep');
touch('other/custom.yaml');
fs.mkdirSync(nodePath.join(root, 'dir/tend.yaml'), { recursive: true });

const at = (path: string) => nodePath.join(root, path);

test('findConfigFile: explicit file, TEND_FILE, then the nearest directory', () => {
  const table: { name: string; file?: string; cwd: string; env?: Record<string, string>; expected: string }[] = [
    { name: 'walks up to the nearest directory with a config', cwd: 'a/b/c', expected: 'a/tend.yml' },
    { name: 'yml wins over json in the same directory', cwd: 'a', expected: 'a/tend.yml' },
    { name: 'a nearer directory wins over the name order', cwd: 'a/b', expected: 'a/tend.yml' },
    { name: 'finds toml', cwd: '.', expected: 'tend.toml' },
    { name: 'a directory named tend.yaml is skipped', cwd: 'dir', expected: 'tend.toml' },
    { name: '-f relative to cwd', file: '../other/custom.yaml', cwd: 'a', expected: 'other/custom.yaml' },
    {
      name: '-f wins over TEND_FILE',
      file: 'custom.yaml',
      cwd: 'other',
      env: { TEND_FILE: at('tend.toml') },
      expected: 'other/custom.yaml',
    },
    { name: 'TEND_FILE wins over the walk', cwd: 'a', env: { TEND_FILE: '../other/custom.yaml' }, expected: 'other/custom.yaml' },
    { name: 'an empty TEND_FILE is ignored', cwd: 'a', env: { TEND_FILE: '' }, expected: 'a/tend.yml' },
  ];
  for (const row of table) {
    const found = findConfigFile({ file: row.file, cwd: at(row.cwd), env: row.env ?? {} });
    assert.equal(found, at(row.expected), row.name);
  }
});

test('findConfigFile: what it throws', () => {
  const table: { name: string; file?: string; cwd: string; env?: Record<string, string>; code: string; message: string }[] = [
    {
      name: '-f to a missing file',
      file: 'nope.yaml',
      cwd: 'a',
      code: 'TEND_CONFIG_UNREADABLE',
      message: `cannot read the config file: ${at('a/nope.yaml')} does not exist`,
    },
    {
      name: 'TEND_FILE to a missing file',
      cwd: 'a',
      env: { TEND_FILE: 'nope.yaml' },
      code: 'TEND_CONFIG_UNREADABLE',
      message: `cannot read the config file: ${at('a/nope.yaml')} (from TEND_FILE) does not exist`,
    },
    {
      name: '-f to a directory',
      file: 'dir',
      cwd: '.',
      code: 'TEND_CONFIG_UNREADABLE',
      message: `cannot read the config file: ${at('dir')} is not a file`,
    },
  ];
  for (const row of table) {
    assert.throws(
      () => findConfigFile({ file: row.file, cwd: at(row.cwd), env: row.env ?? {} }),
      (error: unknown) => error instanceof TendError && error.code === row.code && error.message === row.message,
      row.name,
    );
  }
});

test('findConfigFile: nothing found anywhere up to /', () => {
  // os.tmpdir() may itself sit below a directory holding a tend.yaml; a fresh root-level check
  // is not possible, so only assert when the walk from a config-free temp dir finds nothing.
  const lonely = fs.realpathSync(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'tend-none-')));
  try {
    let found: string | undefined;
    try {
      found = findConfigFile({ cwd: lonely, env: {} });
    } catch (error) {
      assert.ok(error instanceof TendError);
      assert.equal(error.code, 'TEND_CONFIG_NOT_FOUND');
      assert.equal(error.message, `no tend.yaml, tend.yml, tend.json or tend.toml found in ${lonely} or any parent directory`);
      assert.equal(error.exitCode, 2);
      return;
    }
    assert.ok(!found.startsWith(lonely), `found ${found} inside an empty directory`);
  } finally {
    fs.rmSync(lonely, { recursive: true, force: true });
  }
});
