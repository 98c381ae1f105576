// The dashboard in a real browser: playwright-core driving Debian's chromium (installed by
// .ci/run) against the demo (examples/tend.yaml) under a real engine. The page refuses a browser
// that has not logged in and loads with the one-time URL; it shows the demo's services; a
// restart click changes the PID shown; a line the web server logs appears in the logs pane; the
// reload's dry-run plan is shown before anything changes and applied on confirmation; the strict
// CSP is there and the page runs under it without a console error. Screenshots of the main views
// (light, dark, phone width, the reload plan) go to $TEND_TEST_ARTIFACTS (default:
// test-artifacts/dashboard in the repo, ignored by git; named in the output). How long the first full render and a log line take is reported, not asserted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openDashboard } from '../helpers/dashboard.js';
import { daemonProject } from '../helpers/daemon.js';
import { repoRoot } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => fs.existsSync(file));

/** The flags a headless chromium needs here: no sandbox as root, and no calls home (the network is closed). */
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

test('dashboard in chromium: login, services, restart, live logs, reload plan then apply, CSP without console errors', async (t) => {
  if (chromiumPath === undefined) {
    t.skip('chromium is not installed here (.ci/run installs it)');
    return;
  }
  const artefacts = process.env.TEND_TEST_ARTIFACTS ?? path.join(repoRoot(), 'test-artifacts', 'dashboard');
  fs.mkdirSync(artefacts, { recursive: true });
  t.diagnostic(`screenshots in ${artefacts}`);

  const demo = fs.readFileSync(path.join(repoRoot(), 'examples', 'tend.yaml'), 'utf8');
  const files: Record<string, string> = { 'tend.yaml': demo };
  for (const name of fs.readdirSync(path.join(repoRoot(), 'examples', 'app')))
    files[`app/${name}`] = fs.readFileSync(path.join(repoRoot(), 'examples', 'app', name), 'utf8');
  const d = daemonProject(t, files);
  const port = await freePort();
  const env = { PORT: String(port) };
  const up = await d.tend(['up', '-d'], { env });
  assert.equal(up.code, 0, up.stderr);
  const { url } = await openDashboard(t, d, [], env);
  const origin = new URL(url).origin;

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  // Without the link: refused.
  const refused = await page.goto(`${origin}/ui/`);
  assert.equal(refused?.status(), 401);
  assert.match((await page.textContent('body')) ?? '', /Not logged in/);
  problems.length = 0; // the 401 itself is reported by chromium as a failed load

  // With it: logged in, the page and its first full render (every demo service shown).
  const loadStart = Date.now();
  const loaded = await page.goto(url);
  assert.equal(loaded?.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/ui/', 'the code is gone from the address bar');
  const csp = (await loaded?.allHeaders())?.['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'/);
  await page.waitForSelector('#units tr[data-unit="worker.1"]');
  await page.waitForSelector('#units tr[data-unit="web.0"] [data-field="pid"]:text-matches("\\\\d+")');
  t.diagnostic(`first full render: ${Date.now() - loadStart} ms after navigation`);
  for (const unit of ['web.0', 'worker.0', 'worker.1', 'migrate.0']) assert.ok(await page.$(`#units tr[data-unit="${unit}"]`), unit);
  const cookies = await context.cookies();
  assert.equal(cookies.find((c) => c.name === 'tend_session')?.httpOnly, true);
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is out of scripts reach');
  await page.screenshot({ path: path.join(artefacts, 'dashboard-light.png'), fullPage: true });

  // Restart web: the PID shown changes to the new process, and the answer is shown.
  const pidCell = '#units tr[data-unit="web.0"] [data-field="pid"]';
  const before = (await page.textContent(pidCell))?.trim();
  assert.equal(before, String((await d.pids()).web));
  await page.click('#units tr[data-unit="web.0"] button[data-action="restart"]');
  await page.waitForFunction(
    ([selector, old]) => {
      const text = document.querySelector(selector as string)?.textContent?.trim() ?? '';
      return /^\d+$/.test(text) && text !== old;
    },
    [pidCell, before],
  );
  assert.equal((await page.textContent(pidCell))?.trim(), String((await d.pids()).web));
  await page.waitForSelector('#answer:has-text("restarted")');

  // A line the web server logs (it logs each request) shows up in the logs pane.
  const marker = `/dashboard-${Date.now()}`;
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}${marker}`)).ok, { what: 'the demo web server to answer' });
  const asked = Date.now();
  await page.waitForSelector(`#logs .log-line:has-text("GET ${marker}")`);
  t.diagnostic(`a logged line reached the page ${Date.now() - asked} ms after the request`);

  // The dependency graph: web waits for migrate to complete.
  assert.ok(await page.$('#graph path[data-edge="web->migrate"][data-condition="completed"]'), 'the graph has web -> migrate');
  // stderr is marked; the text filter keeps only what matches.
  await page.waitForSelector('#logs .log-line[data-stream="err"] .tag');
  await page.fill('#log-filter', 'GET /dashboard-');
  await page.waitForFunction(() => {
    const shown = [...document.querySelectorAll<HTMLElement>('#logs .log-line')].filter((line) => line.offsetParent !== null);
    return shown.length > 0 && shown.every((line) => line.textContent?.includes('GET /dashboard-'));
  });
  await page.fill('#log-filter', '');

  // A signal from the page: answered with what happened.
  await page.selectOption('#units tr.service-row[data-service="web"] select[data-field="signal"]', 'USR2');
  await page.click('#units tr.service-row[data-service="web"] button[data-action="signal"]');
  await page.waitForSelector('#answer:has-text("SIGUSR2")');

  // Filter the events by service.
  await page.selectOption('#event-service', 'web');
  await page.waitForSelector('#event-list :text("web")');

  // Reload: the plan first (nothing changes yet), then applied on confirmation.
  fs.writeFileSync(path.join(d.dir, 'tend.yaml'), demo.replace('instances: 2', 'instances: 3'));
  await page.click('#reload');
  await page.waitForSelector('#reload-plan[open] :text("worker")');
  const plan = await page.textContent('#reload-plan');
  assert.match(plan ?? '', /worker.*2.*3/s);
  await page.screenshot({ path: path.join(artefacts, 'dashboard-reload-plan.png') });
  assert.equal((await d.status()).units.filter((u) => u.service === 'worker').length, 2, 'a dry run changes nothing');
  await page.click('#reload-apply');
  await page.waitForSelector('#units tr[data-unit="worker.2"]');
  assert.equal((await d.status()).units.filter((u) => u.service === 'worker').length, 3);
  await page.waitForSelector('#answer:has-text("worker")');

  // Dark scheme and a phone's width: no page-wide horizontal scroll.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(artefacts, 'dashboard-dark.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: path.join(artefacts, 'dashboard-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways at 375 px by ${overflow} px`);

  // Keyboard: Tab reaches the service table's buttons.
  await page.setViewportSize({ width: 1280, height: 900 });
  let reached = false;
  for (let i = 0; i < 40 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.closest('#units') !== null && document.activeElement?.tagName === 'BUTTON');
  }
  assert.ok(reached, 'Tab reaches the buttons of the service table');

  assert.deepEqual(problems, [], 'no console errors or warnings');
});
