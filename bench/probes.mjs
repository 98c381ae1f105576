// Issue 10: what readiness probes cost. One shared HTTP server (http-service.mjs), then twice
// `tend up -d` of N sleep services — first without probes, then each with an http readiness probe
// of that server every second — and for each, after settleS, one window of windowS seconds:
// CPU of keeper + engine (utime+stime over the window, % of one core) and their RSS at its end.
// Targets (the issue's): probes < 2% of one core, RSS growth < 15 MB over the fleet without.
import fs from 'node:fs';
import path from 'node:path';
import { CLK_TCK, launch, log, nowMs, readStat, sleep, stopProc, tendCli, waitFor, workdir } from './lib.mjs';

function config(dir, n, port, probed) {
  const file = path.join(dir, 'tend.yaml');
  const probe = probed ? `\n    readiness: { http: "http://127.0.0.1:${port}/", period: 1s, timeout: 1s }` : '';
  const services = Array.from({ length: n }, (_, i) => `  s${i}:\n    command: [sleep, "100000"]\n    min_uptime: 0${probe}`).join('\n');
  fs.writeFileSync(file, `log_dir: ${path.join(dir, 'logs')}\nservices:\n${services}\n`);
  return file;
}

const rssMiB = (pid) => {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
};

async function fleet(n, port, probed, settleS, windowS) {
  const dir = workdir(`probes-${probed ? 'on' : 'off'}`);
  const cfg = config(dir, n, port, probed);
  const res = { probed, n };
  const t0 = nowMs();
  const up = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  res.up_ms = +(nowMs() - t0).toFixed(0);
  if (up.code !== 0) throw new Error(`up -d exited ${up.code}: ${up.stderr.slice(0, 300)}`);
  try {
    const ps = await tendCli(['ps', '--json', '-f', cfg], { cwd: dir });
    const status = JSON.parse(ps.stdout);
    const pids = [status.engine.keeperPid, status.engine.pid];
    if (probed) res.ready = status.units.filter((u) => u.readiness?.state === 'ready').length;
    await sleep(settleS * 1000);
    const ticks = () => pids.map((pid) => readStat(pid)?.ticks ?? 0);
    const before = ticks();
    const start = nowMs();
    await sleep(windowS * 1000);
    const after = ticks();
    const seconds = (nowMs() - start) / 1000;
    [res.keeper_cpu_pct, res.engine_cpu_pct] = after.map((t, i) => +(((t - (before[i] ?? 0)) / CLK_TCK / seconds) * 100).toFixed(2));
    res.cpu_pct = +(res.keeper_cpu_pct + res.engine_cpu_pct).toFixed(2);
    [res.keeper_rss_mib, res.engine_rss_mib] = pids.map((pid) => +(rssMiB(pid) ?? 0).toFixed(1));
    res.rss_mib = +(res.keeper_rss_mib + res.engine_rss_mib).toFixed(1);
  } finally {
    await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  }
  return res;
}

export async function probes({ probesN: n, probesSettleS: settleS, probesWindowS: windowS }) {
  const res = { n, settle_s: settleS, window_s: windowS, errors: [] };
  const dir = workdir('probes-http');
  const port = 20000 + (process.pid % 20000);
  const server = launch(dir, 'http', [
    path.join(path.dirname(new URL(import.meta.url).pathname), 'http-service.mjs'),
    String(port),
    path.join(dir, 'marks', 'http'),
  ]);
  try {
    await waitFor(() => fs.existsSync(path.join(dir, 'marks', 'http')), { what: 'the shared HTTP server' });
    for (const probed of [false, true]) {
      try {
        res[probed ? 'with' : 'without'] = await fleet(n, port, probed, settleS, windowS);
        log(`probes: ${probed ? 'with' : 'without'} probes: ${JSON.stringify(res[probed ? 'with' : 'without'])}`);
      } catch (e) {
        res.errors.push(`${probed ? 'with' : 'without'} probes: ${e.message}`);
      }
    }
    if (res.with && res.without) {
      res.probe_cpu_pct = +(res.with.cpu_pct - res.without.cpu_pct).toFixed(2);
      res.rss_growth_mib = +(res.with.rss_mib - res.without.rss_mib).toFixed(1);
    }
  } finally {
    await stopProc(server);
  }
  return res;
}
