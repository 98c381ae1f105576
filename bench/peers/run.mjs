// Runs the shared peer bench (../shared/peer-bench, read-only) with tend beside the peers, without editing it:
// copies the bench to a scratch dir, drops bench/peers/tend.mjs in as adapters/tend.mjs (the bench's registry
// already lists `tend`), builds tend from a git commit into a scratch dir, and runs the bench's own scripts.
//
//   node bench/peers/run.mjs                 the whole suite: run-peers.sh with PEERS=tend,pm2,supervisord,runit,s6,node-floor
//   node bench/peers/run.mjs check           the bench's conformance check of the tend adapter (check-adapter.mjs tend)
//   node bench/peers/run.mjs measure logs    one measure (measure/<name>.mjs) for $PEERS
//   node bench/peers/run.mjs tend-logs       tend's log integrity with its line prefix parsed (tend-logs.mjs)
//   node bench/peers/run.mjs tend-crash      SIGKILL of tend's engine alone, the keeper left alive (tend-crash.mjs)
//   node bench/peers/run.mjs tend-overhead   tend's idle cost with each PID counted once (tend-overhead.mjs)
//   (the suite runs these after run-peers.sh when PEERS has tend and MEASURES has logs / crash / overhead)
//
// Every env knob of run-peers.sh passes through (QUICK=1, PEERS=..., MEASURES=..., LOG_LINES=..., see its header).
// Own knobs:
//   PEER_BENCH=/work/shared/peer-bench   the bench to copy
//   SCRATCH=/tmp/peer-bench-run           scratch dir (bench copy in bench/, tend build in tend-<sha>/, work dirs in work/)
//   TEND_REF=HEAD                          the commit to build (git archive: committed code only, never the worktree)
//   TEND_BIN=/path/to/dist/main.js         use this build instead (nothing is built), e.g. /work/main/dist/main.js
//   RESULTS_DIR=bench/peers/results/<UTC date>/   where the JSON and the run's tables go (suite and measure)
// Needs the peers installed (../shared/peer-bench/install-peers.sh; root). Requires Linux (/proc).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const REPO = path.resolve(HERE, '..', '..');
const SRC = process.env.PEER_BENCH || path.resolve(REPO, '..', 'shared', 'peer-bench');
const SCRATCH = process.env.SCRATCH || '/tmp/peer-bench-run';
const BENCH = path.join(SCRATCH, 'bench');
const say = (s) => process.stderr.write(`[peers] ${s}\n`);
const die = (s) => {
  say(s);
  process.exit(2);
};

const [mode = 'suite', arg] = process.argv.slice(2);
const SUPPLEMENTS = [
  ['logs', 'tend-logs'],
  ['crash', 'tend-crash'],
  ['overhead', 'tend-overhead'],
];
if (!['suite', 'check', 'measure', ...SUPPLEMENTS.map(([, s]) => s)].includes(mode) || (mode === 'measure' && !arg)) {
  die(`usage: node bench/peers/run.mjs [suite | check | measure <name> | ${SUPPLEMENTS.map(([, s]) => s).join(' | ')}]`);
}
if (!fs.existsSync(path.join(SRC, 'adapters', 'index.mjs'))) die(`${SRC}: not the peer bench (adapters/index.mjs missing)`);

// 1. A fresh, writable copy of the bench with our adapter in place of the stub.
fs.mkdirSync(SCRATCH, { recursive: true });
fs.rmSync(BENCH, { recursive: true, force: true });
fs.cpSync(SRC, BENCH, { recursive: true, filter: (p) => !p.split(path.sep).includes('results') });
execFileSync('chmod', ['-R', 'u+w', BENCH]);
fs.copyFileSync(path.join(HERE, 'tend.mjs'), path.join(BENCH, 'adapters', 'tend.mjs'));
for (const f of SUPPLEMENTS.map(([, s]) => `${s}.mjs`)) fs.copyFileSync(path.join(HERE, f), path.join(BENCH, f));
// The bench's lib/leftovers.mjs --kill (end of run-peers.sh) kills every process with ANY TEND_BENCH_RUN value,
// tend's own `npm run bench` included; the scoped version only touches what this suite started (PEER_SUITE_RUN).
fs.copyFileSync(path.join(HERE, 'leftovers-scoped.mjs'), path.join(BENCH, 'lib', 'leftovers.mjs'));
const registry = fs.readFileSync(path.join(BENCH, 'adapters', 'index.mjs'), 'utf8');
if (!/known = \[[^\]]*'tend'/.test(registry))
  die('the bench registry (adapters/index.mjs) no longer lists tend; check how it loads adapters');

// 2. The tend build: a given TEND_BIN, or TEND_REF compiled from git into the scratch dir.
const git = (...a) => execFileSync('git', ['-C', REPO, ...a], { encoding: 'utf8' }).trim();
let tendBin = process.env.TEND_BIN;
let label;
if (tendBin) {
  tendBin = path.resolve(tendBin);
  label = `TEND_BIN=${tendBin}`;
} else {
  const ref = process.env.TEND_REF || 'HEAD';
  const sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  const out = path.join(SCRATCH, `tend-${sha.slice(0, 12)}`);
  tendBin = path.join(out, 'dist', 'main.js');
  if (!fs.existsSync(tendBin)) {
    say(`building tend ${sha.slice(0, 12)} (${ref}) in ${out}`);
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    execFileSync('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', REPO, sha, out], { stdio: 'inherit' });
    // the project's installed dependencies (zod, yaml, smol-toml, typescript): same lockfile, not reinstalled
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'));
    execFileSync(path.join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: out, stdio: 'inherit' });
  }
  label = `git ${sha.slice(0, 12)}`;
}
if (!fs.existsSync(tendBin)) die(`${tendBin} not found`);

// 3. Run.
const stamp = new Date().toISOString();
const resultsDir = path.resolve(process.env.RESULTS_DIR || path.join(HERE, 'results', stamp.slice(0, 10)));
const env = {
  ...process.env,
  PEERS: process.env.PEERS || 'tend,pm2,supervisord,runit,s6,node-floor',
  BENCH_TMP: process.env.BENCH_TMP || path.join(SCRATCH, 'work'),
  RESULTS_DIR: resultsDir,
  TEND_BIN: tendBin,
  TEND_LABEL: label,
  PEER_SUITE_RUN: `${process.pid}-${Date.now()}`,
};
const steps =
  mode === 'check'
    ? [[process.execPath, ['check-adapter.mjs', 'tend']]]
    : mode === 'measure'
      ? [[process.execPath, [path.join('measure', `${arg}.mjs`)]]]
      : mode.startsWith('tend-')
        ? [
            [process.execPath, [`${mode}.mjs`]],
            [process.execPath, ['lib/leftovers.mjs', '--kill']],
          ]
        : [['bash', ['run-peers.sh']]];
const measures = (process.env.MEASURES || 'respawn,overhead,scale,logs,treekill,crash').split(',');
if (mode === 'suite' && env.PEERS.split(',').includes('tend')) {
  const extra = SUPPLEMENTS.filter(([m]) => measures.includes(m));
  for (const [, f] of extra) steps.push([process.execPath, [`${f}.mjs`]]);
  if (extra.length) steps.push([process.execPath, ['lib/leftovers.mjs', '--kill']]);
}
if (mode !== 'check') {
  fs.mkdirSync(resultsDir, { recursive: true });
  // what was compared: the tend build, the bench's files (hash), the adapter's settings
  const benchHash = execFileSync(
    'sh',
    ['-c', 'cd "$1" && find . -type f ! -path "./results/*" | sort | xargs sha256sum | sha256sum | cut -c1-16', 'sh', SRC],
    { encoding: 'utf8' },
  ).trim();
  const tendAdapter = (await import(path.join(BENCH, 'adapters', 'tend.mjs'))).default;
  fs.writeFileSync(
    path.join(resultsDir, `tend-run-${stamp.replace(/[-:.]/g, '').slice(0, 15)}Z.json`),
    `${JSON.stringify(
      {
        date: stamp,
        mode,
        measure: arg ?? null,
        tend: { build: label, bin: tendBin },
        peer_bench: { path: SRC, files_sha256_16: benchHash },
        peers: env.PEERS,
        quick: process.env.QUICK === '1',
        knobs: Object.fromEntries(
          Object.entries(process.env).filter(([k]) =>
            /^(QUICK|MEASURES|RESPAWN_|OVERHEAD_|IDLE_S|SETTLE_S|CONTROL_|SCALE_|LOG_|TREE_|CRASH_)/.test(k),
          ),
        ),
        tend_settings: tendAdapter.settings,
      },
      null,
      2,
    )}\n`,
  );
}
say(
  `${steps.map(([c, a]) => (c === 'bash' ? a[0] : a.join(' '))).join(', then ')} in ${BENCH}; tend = ${label}; PEERS=${env.PEERS}${mode === 'check' ? '' : `; results -> ${resultsDir}`}`,
);
// the tables of the supplement go to the same run text as the suite's (run-peers.sh writes run-<time>.txt)
const runText = () =>
  fs
    .readdirSync(resultsDir)
    .filter((f) => /^run-.*\.txt$/.test(f))
    .sort()
    .at(-1);
let status = 0;
for (const [cmd, args] of steps) {
  const extra = mode === 'suite' && cmd !== 'bash' ? runText() : null;
  const code = await new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: BENCH, env, stdio: ['inherit', extra ? 'ignore' : 'inherit', extra ? 'pipe' : 'inherit'] });
    if (extra)
      child.stderr.on('data', (b) => {
        process.stderr.write(b);
        fs.appendFileSync(path.join(resultsDir, extra), b);
      });
    const fwd = (sig) => child.kill(sig);
    process.on('SIGINT', fwd);
    process.on('SIGTERM', fwd);
    child.on('exit', (c, signal) => {
      process.off('SIGINT', fwd);
      process.off('SIGTERM', fwd);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
  if (code !== 0) status = code;
}
process.exit(status);
