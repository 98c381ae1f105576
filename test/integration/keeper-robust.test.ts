// The keeper never dies of anything an engine does: malformed messages, impossible orders, an
// engine that dies with the keeper's answers in flight (EPIPE). It carries on, starts a new
// engine with every service still held, and on SIGTERM stops them all and leaves no journal.
// Its own bugs end every service before it exits.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive, readStat } from '../../src/host/proc.js';
import { fixture } from '../helpers/fixtures.js';
import { endGroup, trackGroup, trackPid } from '../helpers/leak-guard.js';
import { waitFor } from '../helpers/wait-for.js';

const keeperMain = fileURLToPath(new URL('../../src/keeper/main.js', import.meta.url));

/** Live processes of forever.mjs working in dir: the services a keeper holds for this test. */
function servicesIn(dir: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      if (fs.readlinkSync(`/proc/${pid}/cwd`) !== dir || !fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('forever.mjs')) continue;
    } catch {
      continue;
    }
    if (isAlive(pid)) found.push(pid);
  }
  return found;
}

function startKeeper(
  t: TestContext,
  dir: string,
  env: Record<string, string> = {},
): { keeper: ChildProcess; output: () => string; exit: Promise<number | null> } {
  let output = '';
  const keeper = spawn(process.execPath, [keeperMain, '--file', path.join(dir, 'tend.yaml'), '--engine', fixture('rogue-engine.mjs')], {
    cwd: dir,
    env: { ...process.env, ROGUE_DIR: dir, TEND_RUNTIME_DIR: path.join(dir, '.runtime'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  trackGroup(keeper.pid ?? 0);
  keeper.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  keeper.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => keeper.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (keeper.exitCode === null) process.kill(keeper.pid ?? 0, 'SIGKILL');
    await exit;
    for (const pid of servicesIn(dir)) await endGroup(pid);
    await endGroup(keeper.pid ?? 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { keeper, output: () => output, exit };
}

const tempDir = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tend-keeper-')));

test('keeper: junk, impossible orders and an engine dying with answers in flight do not kill it', async (t) => {
  const dir = tempDir();
  const { keeper, output, exit } = startKeeper(t, dir);
  // The first engine SIGKILLs itself right after ordering 40 spawns; the second records its hello.
  const hello = await waitFor(
    () => fs.existsSync(path.join(dir, 'hello-1.json')) && JSON.parse(fs.readFileSync(path.join(dir, 'hello-1.json'), 'utf8')),
    {
      what: 'a second engine',
      seen: output,
      timeoutMs: 20_000,
    },
  );
  assert.equal(hello.reason, 'respawn');
  assert.deepEqual(hello.state.config, { file: 'rogue' }, 'the committed state was kept');
  const services = await waitFor(
    () => {
      const found = servicesIn(dir);
      return found.length >= 40 && found;
    },
    { what: '40 services', seen: output },
  );
  for (const pid of services) trackGroup(pid);
  assert.equal(services.length, 40, 'one copy of each unit: the order for a second s.0 was refused');
  assert.ok(isAlive(keeper.pid ?? 0), 'the keeper lives');
  for (const reason of [
    'without a type',
    'unknown message type "explode"',
    'without a valid ackSeq',
    'a known signal',
    'a timeout',
    'without an argv',
  ]) {
    assert.ok(output().includes(`ignored a`) && output().includes(reason), `the keeper's log says it ignored ${reason}\n${output()}`);
  }
  await waitFor(() => /refused an order of the engine \(spawn s\.0\): .*still running/.test(output()), {
    what: 'the second s.0 to be refused',
    seen: output,
  });
  assert.match(output(), /engine \d+ died \(SIGKILL\); starting a new one/);
  process.kill(keeper.pid ?? 0, 'SIGTERM');
  assert.equal(await exit, 0, output());
  for (const pid of services) assert.equal(isAlive(pid), false, `service ${pid} was stopped`);
  assert.equal(
    fs.existsSync(path.join(dir, '.runtime')) &&
      fs.readdirSync(path.join(dir, '.runtime')).some((p) => fs.existsSync(path.join(dir, '.runtime', p, 'state.json'))),
    false,
    'no journal is left after a clean stop',
  );
});

test('keeper: an exception of its own kills every service group before it exits', async (t) => {
  const dir = tempDir();
  const { keeper, output, exit } = startKeeper(t, dir, { TEND_TEST_FAULT: 'keeper-throw-on-usr2' });
  const services = await waitFor(
    () => {
      const found = servicesIn(dir);
      return found.length >= 40 && found;
    },
    { what: '40 services', seen: output, timeoutMs: 20_000 },
  );
  for (const pid of services) trackGroup(pid);
  trackPid(keeper.pid ?? 0);
  process.kill(keeper.pid ?? 0, 'SIGUSR2');
  assert.equal(await exit, 70, output());
  assert.match(output(), /internal error, every service was killed: Error: injected fault/);
  for (const pid of services) await waitFor(() => !isAlive(pid), { what: `service ${pid} to be killed` });
  assert.ok(readStat(keeper.pid ?? 0) === null || !isAlive(keeper.pid ?? 0));
});
