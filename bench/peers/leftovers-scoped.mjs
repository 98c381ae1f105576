// Replaces lib/leftovers.mjs in the scratch copy of the peer bench (run.mjs puts it there). The bench's own
// version treats EVERY process carrying TEND_BENCH_RUN (any value) as a leftover and, with --kill, SIGKILLs it;
// but tend's own `npm run bench` (bench/run.mjs) marks its processes with the same variable, so on a shared
// machine it would kill another session's benchmark in the middle of its run. This version only counts (and
// kills) processes that also carry PEER_SUITE_RUN=<this suite's id>, which run.mjs sets for everything the suite
// starts; other TEND_BENCH_RUN processes are reported and left alone. Same output lines and exit codes otherwise.
// Usage: node lib/leftovers.mjs [--kill]   exit 1 when something of this suite was found.
import fs from 'node:fs';
import { allPids, readStat, safeKill, cmdline, sleep } from './proc.mjs';

const suite = process.env.PEER_SUITE_RUN;
if (!suite) {
  console.error('leftover check: PEER_SUITE_RUN is not set; refusing to guess what is ours');
  process.exit(1);
}
const found = [];
let foreign = 0;
for (const pid of allPids()) {
  if (pid === process.pid) continue;
  let env;
  try {
    env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    continue;
  }
  const m = env.find((e) => e.startsWith('TEND_BENCH_RUN='));
  const st = readStat(pid);
  if (!m || !st || st.state === 'Z') continue;
  if (!env.includes(`PEER_SUITE_RUN=${suite}`)) {
    foreign++;
    continue;
  }
  found.push({ pid, starttime: st.starttime, run: m.slice(15), cmd: cmdline(pid).slice(0, 100) });
}
for (const f of found) console.error(`leftover: pid ${f.pid} (run ${f.run}): ${f.cmd}`);
if (process.argv.includes('--kill')) {
  for (const f of found) safeKill(f.pid, 'SIGKILL', f.starttime);
  await sleep(200);
}
console.error(
  `leftover check: ${found.length} process(es)${found.length && process.argv.includes('--kill') ? ', killed by PID' : ''}` +
    (foreign ? `; ${foreign} other TEND_BENCH_RUN process(es) not started by this suite, left alone` : ''),
);
process.exit(found.length ? 1 : 0);
