// The floor under any Node supervisor, tend included: the cheapest honest one. Each service is spawned
// detached (its own process group), stdout and stderr piped through this process into an append-mode
// <log_dir>/<name>.log, and respawned in the 'exit' handler with no delay. No backoff, no start limit,
// no framing, no timestamps, no events file, no terminal output. SIGINT/SIGTERM: SIGTERM to every group,
// exit 0 once every child has exited.
// Usage: node floor-supervisor.mjs <config.json>   config: { log_dir, services: [{ name, argv }] }
import fs from 'node:fs';
import { spawn } from 'node:child_process';

const { log_dir: logDir, services } = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const live = new Set();
let stopping = false;

function start(svc, out) {
  const child = spawn(svc.argv[0], svc.argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  child.on('error', () => {});
  child.on('exit', () => {
    live.delete(child);
    if (!stopping) start(svc, out);
    else if (live.size === 0) process.exit(0);
  });
}

for (const svc of services) start(svc, fs.createWriteStream(`${logDir}/${svc.name}.log`, { flags: 'a' }));

function stop() {
  if (stopping) return;
  stopping = true;
  if (live.size === 0) process.exit(0);
  for (const child of live)
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
