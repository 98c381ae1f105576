// A background engine for one test: `tend up -d` in a temp project with a private runtime dir,
// a CLI runner that captures stdout and stderr apart, and cleanup registered at birth —
// `tend down`, then SIGKILL of the engine and of every service group it ever reported.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { StatusResponse } from '../../src/api/protocol.js';
import { cgroupsPossible, removeCgroup } from '../../src/host/cgroup.js';
import { isAlive } from '../../src/host/proc.js';
import { projectPaths } from '../../src/runtime/runtime-dir.js';
import { endGroup, trackGroup, trackPid } from './leak-guard.js';
import { tendBin } from './spawn-tend.js';
import { waitFor } from './wait-for.js';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Daemon {
  readonly dir: string;
  readonly env: Record<string, string>;
  tend(args: readonly string[], options?: { env?: Record<string, string> }): Promise<CliResult>;
  status(): Promise<StatusResponse>;
  /** pid of every unit by name ("web", "web.1"), null when not running. */
  pids(): Promise<Record<string, number | null>>;
}

function runCli(args: readonly string[], { cwd, env }: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tendBin(), ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temp project whose engine state lives in its own runtime dir; nothing is started yet. */
export function daemonProject(t: TestContext, files: Record<string, string>): Daemon {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tend-e2e-'));
  const runtime = path.join(dir, '.runtime');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const env = { TEND_RUNTIME_DIR: runtime };
  const seenGroups = new Set<number>();
  const seenEngines = new Set<number>();
  const tend = (args: readonly string[], options: { env?: Record<string, string> } = {}) =>
    runCli(args, { cwd: dir, env: { ...env, ...options.env } });

  const status = async (): Promise<StatusResponse> => {
    const result = await tend(['ps', '--json']);
    if (result.code !== 0) throw new Error(`tend ps failed (${result.code}): ${result.stderr}`);
    const parsed = JSON.parse(result.stdout) as StatusResponse;
    remember(parsed);
    return parsed;
  };
  const remember = (parsed: StatusResponse) => {
    if (!seenEngines.has(parsed.engine.pid)) {
      seenEngines.add(parsed.engine.pid);
      trackPid(parsed.engine.pid);
    }
    for (const unit of parsed.units) {
      if (unit.pid !== null && !seenGroups.has(unit.pid)) {
        seenGroups.add(unit.pid);
        trackGroup(unit.pid);
      }
    }
  };

  t.after(async () => {
    await tend(['down']);
    for (const pid of seenEngines) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), { what: `engine ${pid} to exit` });
    }
    for (const pgid of seenGroups) await endGroup(pgid);
    // A keeper killed in a test leaves its (empty) cgroup behind: the next clean stop would remove it.
    const home = cgroupsPossible();
    if (home !== null) {
      const root = path.join(home, `tend-${projectPaths(path.join(fs.realpathSync(dir), 'tend.yaml'), env).id}`);
      for (const unit of fs.existsSync(root) ? fs.readdirSync(root, { withFileTypes: true }) : [])
        if (unit.isDirectory()) removeCgroup(path.join(root, unit.name));
      removeCgroup(root);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  return {
    dir,
    env,
    tend,
    status,
    async pids() {
      const { units } = await status();
      return Object.fromEntries(units.map((u) => [u.label, u.pid]));
    },
  };
}
