#!/usr/bin/env node
// The keeper's own entry, apart from the CLI so it loads only what it needs (it lives as long
// as the project runs). `tend up -d` starts it in its own session:
//   node keeper/main.js --file CONFIG --engine MAIN_JS [-- NODE_OPTIONS...]
// It takes the project lock, ends what a dead keeper left behind, and runs the engine.
import { parseArgs } from 'node:util';
import { runKeeper } from './keeper.js';
import { acquireLock } from '../runtime/lock.js';
import { endLeftovers } from '../runtime/leftovers.js';
import { ensurePrivateDir, projectPaths } from '../runtime/runtime-dir.js';
import { readState } from '../runtime/state-file.js';

const log = (text: string) => process.stderr.write(`${new Date().toISOString()} keeper ${process.pid}: ${text}\n`);

const { values } = parseArgs({ options: { file: { type: 'string' }, engine: { type: 'string' } }, allowPositionals: true });
const file = values.file ?? '';
const engineMain = values.engine ?? '';
const env: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;

try {
  const paths = projectPaths(file, env);
  ensurePrivateDir(paths);
  const lock = await acquireLock(paths, file);
  const previous = readState(paths.state);
  if (previous) for (const ended of await endLeftovers(previous)) log(`ended ${ended.unit} (pid ${ended.pid}), left running by a keeper that died`);
  const node = [process.execPath, ...process.execArgv];
  const code = await runKeeper({
    engineArgv: [...node, engineMain, 'engine', '--keeper', '--file', file],
    probeArgv: [...node, engineMain, 'engine', '--capabilities', '--file', file],
    cwd: process.cwd(),
    env,
    log,
  });
  lock.release();
  process.exit(code);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log(message);
  // Tell the `up -d` that started us why (e.g. TEND_ALREADY_RUNNING), then go.
  const code = (error as { code?: unknown }).code;
  const hint = (error as { hint?: unknown }).hint;
  const reply = { type: 'error', code: typeof code === 'string' ? code : 'TEND_ENGINE_START_FAILED', message, ...(typeof hint === 'string' ? { hint } : {}) };
  if (process.send) process.send(reply, () => process.exit(1));
  else process.exit(1);
}
