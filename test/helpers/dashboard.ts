// `tend dashboard` for the dashboard tests: started beside a daemonProject, its one-time URL read
// from stdout, and ended (SIGINT, then awaited) after the test.
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import type { Daemon } from './daemon.js';
import { trackPid } from './leak-guard.js';
import { tendBin } from './spawn-tend.js';
import { waitFor } from './wait-for.js';

/** `tend dashboard` left running; resolves with its URL. Ended (SIGINT) after the test. */
export async function openDashboard(t: TestContext, d: Daemon, args: readonly string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [tendBin(), 'dashboard', ...args], {
    cwd: d.dir,
    env: { ...process.env, ...d.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) trackPid(child.pid);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
  });
  const url = await waitFor(() => /^(http:\/\/\S+)$/m.exec(out)?.[1], { what: 'the dashboard URL', seen: () => out + err });
  return { url, child, exited, stderr: () => err };
}
