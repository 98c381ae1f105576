// `tend engine --keeper`: what the keeper starts. The engine's life under a keeper is
// engine/under-keeper.ts; this verb wires it to the IPC channel that main.ts opened first.
// `--capabilities` answers the keeper's pre-upgrade check.
import { ENGINE_KEEPER_PROTOCOLS, type EngineCapabilities } from '../../host/keeper-protocol.js';
import { TendError } from '../../errors.js';
import { onKeeperMessage, sendToKeeper, whenKeeperLost } from '../keeper-channel.js';
import { loadOrExplain } from '../load.js';
import type { Verb } from '../verb.js';
import { version } from '../version.js';

const log = (text: string) => process.stderr.write(`${new Date().toISOString()} engine ${process.pid}: ${text}\n`);

export const engineVerb: Verb = {
  name: 'engine',
  summary: 'Run the engine of a project under its keeper (what `tend up -d` starts).',
  args: '',
  options: {
    keeper: { type: 'boolean', description: 'Talk to the keeper over the IPC channel (required).' },
    capabilities: { type: 'boolean', description: 'Print the version and keeper protocols this engine speaks, as JSON.' },
  },
  details: 'Internal: use `tend up -d`.',
  hidden: true,
  async run(input) {
    if (input.values.capabilities) {
      // Test-only: TEND_TEST_ADVERTISE_PROTOCOLS makes this engine claim other protocols, so a
      // test can see the keeper refuse an upgrade it cannot speak.
      const advertised = input.io.env.TEND_TEST_ADVERTISE_PROTOCOLS?.split(',').map(Number) ?? ENGINE_KEEPER_PROTOCOLS;
      const capabilities: EngineCapabilities = { version: version(), keeperProtocols: advertised };
      input.io.stdout.write(`${JSON.stringify(capabilities)}\n`);
      return 0;
    }
    if (!input.values.keeper || !process.send) throw new TendError('TEND_USAGE', 'tend engine runs under a keeper; use `tend up -d`');
    const { runUnderKeeper } = await import('../../engine/under-keeper.js');
    return runUnderKeeper({
      channel: { onMessage: onKeeperMessage, send: sendToKeeper, whenLost: whenKeeperLost },
      file: String(input.values.file ?? ''),
      env: input.io.env,
      cwd: input.io.cwd,
      version: version(),
      loadConfig: () => loadOrExplain(input),
      log,
    });
  },
};
