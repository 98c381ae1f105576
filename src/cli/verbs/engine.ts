// The background engine's entry (`tend up -d` starts `tend engine -f FILE` in its own session).
// It serves the project until `tend down` or SIGTERM, reloads on SIGHUP, and says hello to the
// `up -d` that started it — ready with the start outcomes, or the error that stopped it.
import { isTendError } from '../../errors.js';
import { loadOrExplain } from '../load.js';
import type { Verb } from '../verb.js';
import { version } from '../version.js';
import type { EngineHello } from './up.js';

const log = (text: string) => process.stderr.write(`${new Date().toISOString()} ${text}\n`);
const hello = (message: EngineHello) => {
  if (process.send) process.send(message, () => process.connected && process.disconnect());
};

export const engineVerb: Verb = {
  name: 'engine',
  summary: 'Run the engine of a project in this process (what `tend up -d` starts in the background).',
  args: '',
  options: {},
  details: 'Internal: use `tend up -d`.',
  hidden: true,
  async run(input) {
    try {
      const config = await loadOrExplain(input);
      const { serve } = await import('../../engine/serve.js');
      const session = await serve({
        config,
        env: input.io.env,
        cwd: input.io.cwd,
        version: version(),
        observer: { output: () => {}, notice: () => {}, warning: (text) => log(`warning: ${text}`) },
      });
      const stop = () => void session.shutdown();
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.on('SIGHUP', () => {
        session.reload().then(
          () => log('reloaded on SIGHUP'),
          (error: unknown) => log(`reload on SIGHUP rejected: ${error instanceof Error ? error.message : String(error)}`),
        );
      });
      log(`engine ${process.pid} serving ${config.file}`);
      hello({ type: 'ready', results: await session.started });
      await session.finished;
      log('engine stopped');
      return 0;
    } catch (error) {
      if (!isTendError(error)) throw error;
      hello({ type: 'error', code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), details: error.details });
      throw error;
    }
  },
};
