// `tend dashboard`: a one-time login URL for the web dashboard. With `api.listen` in the config
// the dashboard is served there for the engine's life, and the command prints the URL and ends;
// without, the engine opens a loopback listener (127.0.0.1, a free port) for as long as this
// command runs — Ctrl-C closes it and ends the sessions it logged in (like `kubectl proxy`).
// `--open` hands the browser a private file that redirects to the URL, so the one-time code is
// never in a command line that `ps` shows to other users.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DashboardLine } from '../../api/protocol.js';
import { TendError } from '../../errors.js';
import { connect } from '../connect.js';
import type { Verb } from '../verb.js';

/** The private redirect page is removed once the browser has surely read it. */
const OPEN_FILE_MS = 60_000;
/** How long a command that would end at once waits for the browser to read that page. */
const OPEN_GRACE_MS = 5000;

export const dashboardVerb: Verb = {
  name: 'dashboard',
  summary: 'Print a one-time login URL for the web dashboard; without api.listen, serve it on loopback until Ctrl-C.',
  args: '',
  options: { open: { type: 'boolean', description: 'Also open the URL in the desktop browser (xdg-open, or open on macOS).' } },
  details:
    'The link logs one browser in, once, within 5 minutes (a cookie for the session; the API token never reaches the browser). With api.listen in the config the dashboard is served there and the command ends at once; without it the engine serves it on 127.0.0.1 (a free port) while this command runs.',
  async run(input) {
    const { client, paths } = await connect(input);
    const { stdout, stderr } = input.io;
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let first: DashboardLine | undefined;
    let cleanup: (() => void) | undefined;
    try {
      await client.dashboard((line) => {
        if (first !== undefined) return;
        first = line;
        stdout.write(`${line.url}\n`);
        stderr.write('This link logs one browser in, once, within 5 minutes; run `tend dashboard` again for another.\n');
        if (line.listener === 'session') stderr.write('The dashboard is served while this command runs: Ctrl-C closes it.\n');
        if (input.values.open === true) cleanup = openBrowser(line.url, paths.dir, stderr);
      }, controller.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    // The browser reads the redirect page soon after it starts; give it a moment before it goes.
    if (cleanup !== undefined && first?.listener === 'configured') await new Promise((resolve) => setTimeout(resolve, OPEN_GRACE_MS));
    cleanup?.();
    if (first === undefined) throw new TendError('TEND_ENGINE_UNREACHABLE', 'the engine gave no dashboard URL');
    if (first.listener === 'session' && !controller.signal.aborted) {
      stderr.write('The engine went away (stopped, or replaced by an upgrade): the dashboard is closed; run `tend dashboard` again.\n');
      return 1;
    }
    if (first.listener === 'session') stderr.write('Dashboard closed.\n');
    return 0;
  },
};

/** Opens the URL through a 0600 page in the runtime dir (only its path is in argv); returns how to remove it early. */
function openBrowser(url: string, dir: string, stderr: NodeJS.WriteStream): () => void {
  const file = path.join(dir, `dashboard-${randomBytes(8).toString('hex')}.html`);
  const remove = () => fs.rmSync(file, { force: true });
  try {
    // wx: created here, never an existing file or a link someone left in our place.
    fs.writeFileSync(file, `<!doctype html><meta http-equiv="refresh" content="0; url=${url}"><title>tend</title>\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    stderr.write(`could not open a browser (${(error as NodeJS.ErrnoException).code ?? 'error'}): open the URL above yourself\n`);
    return () => {};
  }
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [`file://${file}`], { stdio: 'ignore', detached: true });
  child.once('error', (error: NodeJS.ErrnoException) => {
    remove();
    stderr.write(`could not open a browser (${opener}: ${error.code ?? error.message}): open the URL above yourself\n`);
  });
  child.unref();
  setTimeout(remove, OPEN_FILE_MS).unref();
  return remove;
}
