// The suite runner behind `npm test`: runs every compiled *.test.js with `node --test`, then
// proves nothing outlived the run. Each process the suite starts inherits TEND_TEST_RUN=<id>;
// afterwards any live process whose environment still carries it is reported, SIGKILLed (by
// pid, after re-checking its /proc start time) and the run fails. Plain JS: it runs uncompiled.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const buildDir = join(root, '.build-test');
const SKIP_DIRS = new Set(['fixtures', 'helpers', 'node_modules']);

/** Every *.test.js under dir, sorted, leaving out fixtures and helpers. */
function findTests(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) found.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path);
  }
  return found.sort();
}

/** state letter and start time (field 22) from /proc/PID/stat; comm may hold ')' and spaces. */
function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return null;
  }
}

/** Live (non-zombie) processes, other than this one, whose environment carries the marker. */
function findMarked(marker) {
  const marked = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read (then it cannot be ours to have started either)
    }
    if (!environ.split('\0').includes(marker)) continue;
    const stat = readStat(pid);
    if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // it just exited
    }
    marked.push({ pid, startTime: stat.startTime, cmdline });
  }
  return marked;
}

/** Totals from the TAP report: the root-level "# pass N" / "# fail N" / "# cancelled N" lines. */
function readCounts(tapFile) {
  let text = '';
  try {
    text = readFileSync(tapFile, 'utf8');
  } catch {
    return null;
  }
  // The last match: the summary ends the report, after any "# ..." a test printed itself.
  const count = (key) => {
    const match = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].at(-1);
    return match === undefined ? null : Number(match[1]);
  };
  const pass = count('pass');
  const fail = count('fail');
  if (pass === null || fail === null) return null;
  return { pass, fail: fail + (count('cancelled') ?? 0) };
}

// `node test/run.mjs src` runs only the fast unit tests beside the code (`npm run test:unit`).
const roots = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'test'];
const files = roots.flatMap((dir) => findTests(join(buildDir, dir)));
if (files.length === 0) {
  console.error(`no *.test.js under ${relative(root, buildDir)}/ — run \`npm run build:test\` first`);
  process.exit(1);
}

// Cgroups tend makes (a tend-<project> cgroup per project, where the machine lets it) outlive a
// tend that a test killed on purpose; the empty ones this run made are removed at its end.
function tendCgroups() {
  let mount = null;
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [left, right] = line.split(' - ');
      if (right?.startsWith('cgroup2 ')) mount = left.split(' ')[4];
    }
    const own =
      readFileSync('/proc/self/cgroup', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('0::'))
        ?.slice(3) ?? '/';
    if (mount === null) return [];
    const home = join(mount, own);
    return readdirSync(home)
      .filter((name) => name.startsWith('tend-'))
      .map((name) => join(home, name));
  } catch {
    return [];
  }
}
const cgroupsBefore = new Set(tendCgroups());

const runId = randomUUID();
const marker = `TEND_TEST_RUN=${runId}`;
const reportDir = mkdtempSync(join(tmpdir(), 'tend-test-run-'));
const tapFile = join(reportDir, 'report.tap');

const args = [
  '--test',
  '--test-concurrency=2', // two cores: more files at once only adds timing noise
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...files,
];
const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TEND_TEST_RUN: runId },
});
// Ctrl-C reaches node --test through the terminal's process group; we only wait for it to
// end, and still run the leak scan afterwards.
process.on('SIGINT', () => {});

const testExitCode = await new Promise((resolve) => {
  child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
});

for (const dir of tendCgroups()) {
  if (cgroupsBefore.has(dir)) continue;
  for (const unit of readdirSync(dir, { withFileTypes: true }))
    if (unit.isDirectory())
      try {
        rmdirSync(join(dir, unit.name));
      } catch {}
  try {
    rmdirSync(dir);
  } catch {} // still populated: a leaked process, reported below
}

const counts = readCounts(tapFile);
rmSync(reportDir, { recursive: true, force: true });

let exitCode = testExitCode;
const leaked = findMarked(marker);
if (leaked.length > 0) {
  console.error(`\n${leaked.length} processes leaked by the test run:`);
  for (const { pid, startTime, cmdline } of leaked) {
    console.error(`  ${pid}  ${cmdline}`);
    // Same pid and same start time: still the process we found, not a recycled pid.
    if (readStat(pid)?.startTime === startTime) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited meanwhile
      }
    }
  }
  exitCode = 1;
}

console.log(counts === null ? 'could not read the test counts (did node --test crash?)' : `${counts.pass} passed, ${counts.fail} failed`);
if (leaked.length > 0) console.log(`${leaked.length} processes leaked by the test run`);
process.exit(counts === null && exitCode === 0 ? 1 : exitCode);
