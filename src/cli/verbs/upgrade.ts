// `tend upgrade`: replace the running engine with the code now on disk (after `npm install -g
// tend@new`, say) without restarting any service. The keeper checks that the new engine speaks
// its protocol first; if not, nothing changes and the answer says which restart is needed.
import { connect } from '../connect.js';
import type { Verb } from '../verb.js';

export const upgradeVerb: Verb = {
  name: 'upgrade',
  summary: 'Replace the running engine with the tend now on disk; services keep running (same PIDs).',
  args: '',
  options: {},
  details: [
    'The keeper (which holds the services and their logs) stays; only the engine is replaced.',
    'If the new version cannot speak to this keeper, nothing changes and tend says so: then',
    '`tend down && tend up -d` replaces the keeper too, which restarts every service.',
  ].join('\n'),
  async run(input) {
    const { client } = await connect(input);
    const before = await client.status();
    await client.upgrade();
    // The old engine retires and a new one binds the socket: wait (bounded) until it answers.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const now = await client.status();
        if (now.engine.pid !== before.engine.pid) {
          input.io.stdout.write(
            `engine replaced: tend ${before.engine.version} (pid ${before.engine.pid}) → tend ${now.engine.version} (pid ${now.engine.pid}); ${now.units.length} services untouched\n`,
          );
          return 0;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error; // not answering yet while it hands over
      }
      if (Date.now() > deadline) {
        input.io.stderr.write('tend: the new engine did not answer within 15 s; see engine.log in the runtime directory\n');
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  },
};
