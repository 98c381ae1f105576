// Runs the real `tend` bin (vitest's runCli): captures its output, waits on lines with a
// deadline, and always cleans up — tend itself and every service group it reported starting.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from './fixtures.js';
import { endGroup, trackGroup } from './leak-guard.js';
import { waitFor, type WaitOptions } from './wait-for.js';

export interface TendRun {
  readonly child: ChildProcess;
  /** stdout and stderr as received so far, interleaved. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output (searching from `from`). */
  waitForOutput(pattern: RegExp, options?: WaitOptions & { from?: number }): Promise<RegExpMatchArray>;
  /** Every pid tend reported as started, in order. */
  servicePids(): number[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const tendBin = () => path.join(repoRoot(), '.build-test', 'src', 'main.js');

export function spawnTend(t: TestContext, args: readonly string[], options: { cwd: string; env?: Record<string, string> }): TendRun {
  const child = spawn(process.execPath, [tendBin(), ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) trackGroup(child.pid);
  let text = '';
  const pids: number[] = [];
  const onData = (chunk: Buffer) => {
    const before = text.length;
    text += chunk.toString('utf8');
    // Scan from the start of the last line before this chunk, so a line split across chunks counts.
    const start = text.lastIndexOf('\n', Math.max(0, before - 1)) + 1;
    for (const match of text.slice(start).matchAll(/started(?: again)? \(pid (\d+)/g)) {
      const pid = Number(match[1]);
      if (!pids.includes(pid)) {
        pids.push(pid);
        trackGroup(pid);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    for (const pid of pids) await endGroup(pid);
  });
  return {
    child,
    output: () => text,
    servicePids: () => [...pids],
    exited,
    waitForOutput(pattern, { from = 0, ...wait } = {}) {
      return waitFor(() => text.slice(from).match(pattern), {
        what: `tend output to match ${pattern}`,
        seen: () => text.slice(-3000),
        ...wait,
      });
    },
  };
}

/** Run tend to completion and return its exit code and output. */
export async function runTend(t: TestContext, args: readonly string[], options: { cwd: string; env?: Record<string, string> }) {
  const run = spawnTend(t, args, options);
  const { code } = await run.exited;
  return { code, output: run.output() };
}
