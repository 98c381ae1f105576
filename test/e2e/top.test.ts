// `tend top` driven through a pseudo-terminal (util-linux `script`): its frame shows the fleet,
// a key restarts the selected service, q gives the terminal back. Not on a terminal: one table.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { daemonProject } from '../helpers/daemon.js';
import { nodeFixture } from '../helpers/fixtures.js';
import { trackGroup } from '../helpers/leak-guard.js';
import { tendBin } from '../helpers/spawn-tend.js';
import { waitFor } from '../helpers/wait-for.js';

const argv = (name: string, ...args: string[]) => JSON.stringify(nodeFixture(name, ...args));
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

test('top: the live frame in a pseudo-terminal, r restarts the selected service, q quits; plain once otherwise', async (t) => {
  const d = daemonProject(t, {
    'tend.yaml': `services:\n  web:\n    command: ${argv('forever.mjs')}\n  db:\n    command: ${argv('forever.mjs')}\n`,
  });
  assert.equal((await d.tend(['up', '-d'])).code, 0);
  const plain = await d.tend(['top', '--sort', 'name']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^ {2}NAME\s+STATE\s+PID\s+CPU\s+MEM\s+RESTARTS\s+UPTIME\n {2}db\s+running\s+\d+/);
  const before = (await d.pids()).db;
  const command = [process.execPath, tendBin(), 'top', '--sort', 'name'].map(quote).join(' ');
  const pty = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: d.dir,
    env: { ...process.env, ...d.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  if (pty.pid !== undefined) trackGroup(pty.pid);
  let screen = '';
  pty.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => pty.once('close', (code) => resolve(code)));
  t.after(() => {
    if (pty.exitCode === null && pty.pid !== undefined) process.kill(-pty.pid, 'SIGKILL');
  });
  await waitFor(() => /tend top — .* — 2 of 2 running/.test(screen) && /> db\s+running/.test(screen), {
    what: 'the first frame',
    seen: () => screen.slice(-2000),
  });
  pty.stdin.write('r'); // db is selected: sorted by name, the first row
  await waitFor(() => /db: restarted \(pid \d+\)/.test(screen), {
    what: 'the restart answer in the frame',
    seen: () => screen.slice(-2000),
  });
  assert.notEqual((await d.pids()).db, before);
  pty.stdin.write('q');
  assert.equal(await exited, 0);
  assert.ok(screen.includes('\x1b[?1049l'), 'the alternate screen is left');
});
