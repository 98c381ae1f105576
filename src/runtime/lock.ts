// One engine per project. On Linux the lock is an abstract unix socket bound by the engine: the
// kernel releases it when the process dies, so there is never a stale lock to judge. Elsewhere
// a pid file created with O_EXCL holds it; a pid file whose process (checked by /proc start time
// where available) is gone is stale and cleared.
import fs from 'node:fs';
import net from 'node:net';
import { readStat } from '../host/proc.js';
import { TendError } from '../errors.js';
import type { ProjectPaths } from './runtime-dir.js';

export interface Lock {
  release(): void;
}

export async function acquireLock(paths: ProjectPaths, configFile: string): Promise<Lock> {
  return process.platform === 'linux' ? abstractSocketLock(paths, configFile) : pidFileLock(paths, configFile);
}

function abstractSocketLock(paths: ProjectPaths, configFile: string): Promise<Lock> {
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new TendError('TEND_ALREADY_RUNNING', configFile) : error);
    });
    // uid in the name: abstract sockets have no permissions, so users must not collide.
    server.listen({ path: `\0tend-${process.getuid?.() ?? 0}-${paths.id}` }, () => {
      server.unref();
      resolve({ release: () => server.close() });
    });
  });
}

function pidFileLock(paths: ProjectPaths, configFile: string): Lock {
  const mine = `${process.pid} ${readStat(process.pid)?.startTime ?? 0}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(paths.lock, mine, { flag: 'wx', mode: 0o600 });
      return { release: () => fs.rmSync(paths.lock, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (isHeld(paths.lock)) throw new TendError('TEND_ALREADY_RUNNING', configFile);
      fs.rmSync(paths.lock, { force: true }); // stale: its engine is gone
    }
  }
  throw new TendError('TEND_ALREADY_RUNNING', configFile);
}

function isHeld(file: string): boolean {
  const [pid = 0, startTime = 0] = fs.readFileSync(file, 'utf8').trim().split(' ').map(Number);
  const stat = readStat(pid);
  if (stat === null) {
    try {
      process.kill(pid, 0); // no /proc: trust the pid alone
      return true;
    } catch {
      return false;
    }
  }
  return startTime === 0 || stat.startTime === startTime;
}
