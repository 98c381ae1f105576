// One engine per project: the lock is a unix socket, lock.sock, in the project's private
// runtime directory (0700, ours), so only its owner (or root) can hold it or even reach it. It
// is held while a process listens on it: a live holder answers a connect, a dead one leaves a
// socket that refuses — stale, taken over at once, never blocking the next start. Every bind
// and every removal of a stale socket happens under a short mutex (a directory made with
// mkdir, atomic), so two starters can never both believe they hold it.
//
// The holder may answer on it too: the keeper serves its status and `down` there (one JSON line
// each way), so the CLI can still see and stop the services when no engine answers.
import fs from 'node:fs';
import net from 'node:net';
import { TendError } from '../errors.js';
import type { ProjectPaths } from './runtime-dir.js';

export interface Lock {
  release(): void;
  /** Answer requests that arrive on the lock (the keeper's status and `down`). */
  answer(handler: (request: unknown) => unknown): void;
}

const MUTEX_STALE_MS = 5000;
const ATTEMPTS = 200; // × ~25 ms: a few seconds of contention at most
const MAX_REQUEST = 4096;
const MAX_CLIENTS = 16;
const TIMEOUT_MS = 5000;

export async function acquireLock(paths: ProjectPaths, configFile: string): Promise<Lock> {
  const mutex = `${paths.lock}.mutex`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!takeMutex(mutex)) {
      await sleep(20 + Math.random() * 10);
      continue;
    }
    try {
      const server = await tryListen(paths.lock);
      if (server) return lockOn(server, paths.lock);
      if (await isAnswering(paths.lock)) throw new TendError('TEND_ALREADY_RUNNING', configFile);
      fs.rmSync(paths.lock, { force: true }); // stale: its holder is gone; under the mutex, no one else binds meanwhile
      const fresh = await tryListen(paths.lock);
      if (fresh) return lockOn(fresh, paths.lock);
    } finally {
      fs.rmSync(mutex, { recursive: true, force: true });
    }
  }
  throw new TendError('TEND_ALREADY_RUNNING', configFile);
}

/** Ask whoever holds the lock; null when nothing answers (no holder, or one that serves nothing). */
export function askLockHolder(paths: ProjectPaths, request: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const socket = net.connect(paths.lock);
    let text = '';
    const done = (value: unknown) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(TIMEOUT_MS, () => done(null));
    socket.on('error', () => done(null));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) done(parse(text.slice(0, end)));
      else if (text.length > 1024 * 1024) done(null);
    });
    socket.on('end', () => done(null));
  });
}

function lockOn(server: net.Server, file: string): Lock {
  let handler: ((request: unknown) => unknown) | null = null;
  server.maxConnections = MAX_CLIENTS;
  server.on('connection', (socket) => {
    if (handler === null) return void socket.destroy();
    const serve = handler;
    let text = '';
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.length > MAX_REQUEST) return void socket.destroy();
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      let answer: unknown;
      try {
        answer = serve(parse(text.slice(0, end)));
      } catch (error) {
        answer = { error: error instanceof Error ? error.message : String(error) };
      }
      socket.end(`${JSON.stringify(answer)}\n`);
    });
  });
  return {
    release(): void {
      // Removed while still listening: no one can bind it until it is gone, and then it is theirs.
      fs.rmSync(file, { force: true });
      server.close();
    },
    answer(next): void {
      handler = next;
    },
  };
}

/** Listens on the path; null when it is taken (EADDRINUSE). Keeps no event loop alive on its own. */
function tryListen(file: string): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(null) : reject(lockError(file, error))));
    server.listen({ path: file }, () => {
      server.unref();
      fs.chmodSync(file, 0o600);
      resolve(server);
    });
  });
}

function isAnswering(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false)); // ECONNREFUSED: a socket nobody listens on
  });
}

function takeMutex(mutex: string): boolean {
  try {
    fs.mkdirSync(mutex, { mode: 0o700 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(mutex, error);
    // A starter that died inside its few milliseconds of holding it left it behind.
    try {
      if (Date.now() - fs.statSync(mutex).mtimeMs > MUTEX_STALE_MS) fs.rmSync(mutex, { recursive: true, force: true });
    } catch {
      // gone meanwhile: the next attempt takes it
    }
    return false;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lockError(file: string, error: unknown): TendError {
  return new TendError('TEND_RUNTIME_DIR', `${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
