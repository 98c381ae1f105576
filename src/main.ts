#!/usr/bin/env node
// The bin entry: hands argv to the CLI and turns its answer into the exit code. The only place
// that exits; an internal error still runs the emergency hooks (no orphaned process groups).
import { run } from './cli/run.js';
import { runEmergencyHooks } from './lib/emergency.js';

const debug = process.argv.includes('--debug');

function die(error: unknown): never {
  runEmergencyHooks();
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tend: internal error: ${message} (run again with --debug for details)\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

process.on('uncaughtException', die);
process.on('unhandledRejection', die);

// Exit explicitly: a finished `up` must not linger on a forgotten handle. stdout and stderr are
// synchronous for files, pipes and TTYs on Linux, so nothing written is lost.
process.exit(await run(process.argv.slice(2)));
