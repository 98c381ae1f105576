// The package as a user gets it: `npm pack` builds and packs it, the tarball installs into a
// scratch prefix (its dependencies from npm's cache where npm ci left them, else the registry, as
// a user's install would), and the installed `tend` runs a project: up -d, ps, down.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/fixtures.js';
import '../helpers/leak-guard.js';

const run = promisify(execFile);

test('npm pack makes a package that installs by its name and runs `tend up -d`, `ps` and `down`', { timeout: 300_000 }, async (t) => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-package-'));
  t.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const npm = {
    cwd: repoRoot(),
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  };
  const packed = await run('npm', ['pack', '--json', '--pack-destination', scratch], { ...npm, maxBuffer: 16 * 1024 * 1024 });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(info, 'npm pack said what it packed');
  const files = info.files.map((f) => f.path);
  assert.ok(files.includes('dist/main.js') && files.includes('schema/tend.schema.json') && files.includes('package.json'));
  assert.ok(
    !files.some((f) => f.includes('.test.') || f.startsWith('src/') || f.startsWith('test/')),
    'no tests or sources in the package',
  );
  const prefix = path.join(scratch, 'prefix');
  await run('npm', ['install', '--prefer-offline', '--no-save', '--prefix', prefix, path.join(scratch, info.filename)], {
    ...npm,
    cwd: scratch,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tend = path.join(prefix, 'node_modules', '.bin', 'tend');
  const version = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version as string;
  assert.equal((await run(tend, ['--version'])).stdout, `tend ${version}\n`);
  const project = path.join(scratch, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'tend.yaml'), 'services:\n  sleeper:\n    command: ["sleep", "300"]\n');
  const env = { ...process.env, TEND_RUNTIME_DIR: path.join(scratch, 'runtime'), NO_COLOR: '1' };
  const up = await run(tend, ['up', '-d'], { cwd: project, env });
  t.after(() => run(tend, ['down'], { cwd: project, env }).catch(() => undefined));
  assert.match(up.stdout, /^sleeper\s+started \(pid \d+\)$/m);
  assert.match((await run(tend, ['ps'], { cwd: project, env })).stdout, /^sleeper\s+running/m);
  assert.match((await run(tend, ['down'], { cwd: project, env })).stdout, /engine stopped\n$/);
});
