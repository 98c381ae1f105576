// Issue 12: what the dashboard costs. `tend up -d` of N services (api.listen on loopback), W of
// them writing `rate / W` lines a second each (10k lines/s in all) and the rest sleeping; then
// one window of windowS seconds without a dashboard and one with D dashboards — HTTP clients that
// log in with a `tend dashboard` link each and follow /v1/live with every service's logs, as the
// page does — reading as fast as they can. For each window: keeper + engine CPU (% of one core),
// their RSS at its end, and the lines each dashboard received per second (did they keep up?). A
// window with one dashboard comes between the two.
// Then, when chromium and playwright-core are there, the page itself: navigation to the first
// full render (every unit's row), median of `pageLoads`, with the N services and the log flood on.
// Target (the issue's): the engine's RSS with the dashboard open and following every service within
// 15 MB of the same engine without it (one dashboard; the five are the load figure).
import fs from 'node:fs';
import path from 'node:path';
import { CLK_TCK, log, median, nowMs, readStat, sleep, tendCli, workdir } from './lib.mjs';

const writer = `// Writes RATE lines a second in batches every 20 ms, until killed.
const rate = Number(process.argv[2]);
let n = 0;
const pad = '.'.repeat(60);
setInterval(() => {
  let chunk = '';
  for (let i = 0; i < rate / 50; i++) chunk += \`line \${++n} \${pad}\\n\`;
  process.stdout.write(chunk);
}, 20);
`;

function config(dir, n, writers, rate) {
  fs.writeFileSync(path.join(dir, 'writer.mjs'), writer);
  const each = Math.round(rate / writers);
  const services = Array.from({ length: n }, (_, i) =>
    i < writers
      ? `  w${i}:\n    command: ["${process.execPath}", "writer.mjs", "${each}"]\n    min_uptime: 0`
      : `  s${i}:\n    command: [sleep, "100000"]\n    min_uptime: 0`,
  ).join('\n');
  const file = path.join(dir, 'tend.yaml');
  fs.writeFileSync(file, `api: { listen: "127.0.0.1:0" }\nlog_dir: ${path.join(dir, 'logs')}\nservices:\n${services}\n`);
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

/** One dashboard: logs in with a fresh link, follows /v1/live; counts the log lines it gets. */
async function dashboardClient(dir, cfg) {
  const minted = await tendCli(['dashboard', '-f', cfg], { cwd: dir });
  const url = minted.stdout.trim();
  if (minted.code !== 0 || !url.startsWith('http')) throw new Error(`tend dashboard: ${minted.stderr.slice(0, 200)}`);
  const login = await fetch(url, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const { origin } = new URL(url);
  const controller = new AbortController();
  const client = { lines: 0, ended: null, stop: () => controller.abort() };
  const res = await fetch(`${origin}/v1/live?follow=1&logs=200&events=100`, { headers: { cookie }, signal: controller.signal });
  if (res.status !== 200) throw new Error(`/v1/live answered ${res.status}`);
  (async () => {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines)
          if (line.startsWith('{"log"')) client.lines += 1;
          else if (line.startsWith('{"error"')) client.ended = line.slice(0, 200);
      }
    } catch {
      // aborted
    }
  })();
  return client;
}

async function windowOf(pids, seconds, clients) {
  const ticks = () => pids.map((pid) => readStat(pid)?.ticks ?? 0);
  const before = ticks();
  const linesBefore = clients.map((c) => c.lines);
  const start = nowMs();
  await sleep(seconds * 1000);
  const after = ticks();
  const elapsed = (nowMs() - start) / 1000;
  const [keeper, engine] = after.map((t, i) => +(((t - (before[i] ?? 0)) / CLK_TCK / elapsed) * 100).toFixed(2));
  return {
    keeper_cpu_pct: keeper,
    engine_cpu_pct: engine,
    keeper_rss_mib: +(rssMiB(pids[0]) ?? 0).toFixed(1),
    engine_rss_mib: +(rssMiB(pids[1]) ?? 0).toFixed(1),
    lines_per_s_each: clients.map((c, i) => Math.round((c.lines - (linesBefore[i] ?? 0)) / elapsed)),
  };
}

async function pageLoads(dir, cfg, n, runs) {
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => fs.existsSync(file));
  if (chromiumPath === undefined) return { skipped: 'chromium is not installed' };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-sandbox',
    ],
  });
  try {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const minted = await tendCli(['dashboard', '-f', cfg], { cwd: dir });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      let transferred = 0;
      page.on('response', async (response) => {
        if (response.url().includes('/ui/')) transferred += Number((await response.allHeaders())['content-length'] ?? 0);
      });
      const t0 = nowMs();
      await page.goto(minted.stdout.trim());
      await page.waitForFunction((count) => document.querySelectorAll('#units tr[data-unit]').length >= count, n, { timeout: 60000 });
      times.push(nowMs() - t0);
      bytes = transferred;
      await context.close();
    }
    return { runs, first_full_render_ms: +median(times).toFixed(0), all_ms: times.map((t) => Math.round(t)), page_bytes_gzip: bytes };
  } finally {
    await browser.close();
  }
}

export async function dashboard({
  dashN: n,
  dashWriters: writers,
  dashRate: rate,
  dashClients: count,
  dashSettleS: settleS,
  dashWindowS: windowS,
  dashPageRuns,
}) {
  const res = { n, writers, rate, dashboards: count, settle_s: settleS, window_s: windowS, errors: [] };
  const dir = workdir('dashboard');
  const cfg = config(dir, n, writers, rate);
  const up = await tendCli(['up', '-d', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  if (up.code !== 0) {
    res.errors.push(`up -d exited ${up.code}: ${up.stderr.slice(0, 300)}`);
    return res;
  }
  const clients = [];
  try {
    const status = JSON.parse((await tendCli(['ps', '--json', '-f', cfg], { cwd: dir })).stdout);
    const pids = [status.engine.keeperPid, status.engine.pid];
    await sleep(settleS * 1000);
    res.without = await windowOf(pids, windowS, []);
    log(`dashboard: without: ${JSON.stringify(res.without)}`);
    clients.push(await dashboardClient(dir, cfg));
    await sleep(settleS * 1000);
    res.with_one = await windowOf(pids, windowS, clients);
    log(`dashboard: with 1: ${JSON.stringify(res.with_one)}`);
    res.engine_rss_growth_one_mib = +(res.with_one.engine_rss_mib - res.without.engine_rss_mib).toFixed(1);
    while (clients.length < count) clients.push(await dashboardClient(dir, cfg));
    await sleep(settleS * 1000);
    res.with = await windowOf(pids, windowS, clients);
    res.slow_reader_ends = clients.filter((c) => c.ended !== null).map((c) => c.ended);
    log(`dashboard: with ${count}: ${JSON.stringify(res.with)}`);
    res.engine_rss_growth_mib = +(res.with.engine_rss_mib - res.without.engine_rss_mib).toFixed(1);
    res.engine_cpu_growth_pct = +(res.with.engine_cpu_pct - res.without.engine_cpu_pct).toFixed(2);
    for (const client of clients) client.stop();
    clients.length = 0;
    try {
      res.page = await pageLoads(dir, cfg, n, dashPageRuns);
      log(`dashboard: page: ${JSON.stringify(res.page)}`);
    } catch (error) {
      res.errors.push(`page load: ${error.message.split('\n')[0]}`);
    }
  } catch (error) {
    res.errors.push(error.message);
  } finally {
    for (const client of clients) client.stop();
    await tendCli(['down', '-f', cfg], { cwd: dir, timeoutMs: 120000 });
  }
  return res;
}
