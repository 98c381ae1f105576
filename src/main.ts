#!/usr/bin/env node
// The bin entry: hands argv to the CLI and turns its answer into the exit code. The only place
// that exits; an internal error still runs the emergency hooks (no orphaned process groups).
// An engine started by its keeper opens the keeper's channel first, so the keeper's heartbeat
// is answered while the rest of tend is still loading (the CLI is imported after that).
import { openKeeperChannel } from './cli/keeper-channel.js';
import { runEmergencyHooks } from './lib/emergency.js';
import { closeInheritedDescriptors } from './lib/inherited-fds.js';

// First of all: nothing this process was started with beyond stdin/out/err goes on to a service.
closeInheritedDescriptors();

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
// A reader that went away (`tend logs | head`) is not an error of tend's: verbs that stream stop
// on their own (see logs.ts, up.ts); nothing else needs to hear about it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') die(error);
  });
}
if (process.send !== undefined && process.argv.includes('--keeper')) openKeeperChannel();

// Exit explicitly — a finished `up` must not linger on a forgotten handle — but only once what
// was written reached stdout and stderr: a pipe whose reader is slow (`tend logs | less`) holds
// the rest in Node's queue, and exiting at once would cut it.
const { run } = await import('./cli/run.js');
const code = await run(process.argv.slice(2));
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
