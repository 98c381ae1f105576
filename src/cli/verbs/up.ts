// `tend up`: run the fleet in the foreground, output multiplexed on the terminal. Ctrl-C (or
// SIGTERM) stops every service and exits 0 once all groups are gone; a second one kills them
// at once. If every service comes to rest by itself (one-shot tasks only), tend exits too.
import { createEngine, type NoticeRecord } from '../../engine/engine.js';
import { onEmergency } from '../../lib/emergency.js';
import { createTerminalFormatter, shouldUseColor } from '../../logs/terminal.js';
import { unitsOf } from '../../engine/units.js';
import { loadOrExplain } from '../load.js';
import { describeNotice } from '../render/notice.js';
import type { Verb } from '../verb.js';

function injectFault(): void {
  setImmediate(() => {
    throw new Error('injected fault (TEND_TEST_FAULT)');
  });
}

export const upVerb: Verb = {
  name: 'up',
  summary: 'Start every service and supervise them in the foreground; Ctrl-C stops them all.',
  args: '',
  options: {},
  details: [
    'Output of every service is shown prefixed with its name and kept in its log file.',
    'Ctrl-C or SIGTERM stops all services (stop signal, then SIGKILL after the timeout) and',
    'exits 0 once every process group is empty; a second Ctrl-C kills them at once (exit 130).',
    'When every service has come to rest by itself, tend exits: 0 if all succeeded, else 1.',
  ].join('\n'),
  async run(input) {
    const { io } = input;
    const config = loadOrExplain(input);
    const labels = config.services.flatMap(unitsOf).map((unit) => unit.label);
    if (labels.length === 0) {
      io.stdout.write('tend: no services to run (every service has instances: 0)\n');
      return 0;
    }
    const terminal = createTerminalFormatter({
      color: shouldUseColor({ isTTY: io.stdout.isTTY === true, env: io.env }),
      names: labels,
    });
    const say = (text: string) => io.stdout.write(terminal.formatText('tend', text));

    // Test-only: TEND_TEST_FAULT=throw-after-start makes tend die of an "internal error" once every
    // service is up, so a test can check that a crash of tend takes its process groups along.
    const faultInjected = io.env.TEND_TEST_FAULT === 'throw-after-start';
    let spawned = 0;
    let stopping = false;
    let settle: (code: number) => void = () => {};
    const finished = new Promise<number>((resolve) => (settle = resolve));
    const engine = createEngine({
      config,
      baseEnv: io.env,
      observer: {
        output: (unit, stream, lines) => io.stdout.write(terminal.format(unit.label, lines, stream)),
        notice: (record: NoticeRecord) => {
          say(describeNotice(record));
          if (record.kind === 'spawned' && faultInjected && ++spawned === labels.length) injectFault();
        },
        warning: (text) => say(`warning: ${text}`),
        resting: () => {
          if (stopping) return;
          const failed = engine.status().filter((unit) => unit.lastResult !== 'success');
          say(failed.length === 0 ? 'every service has finished' : `every service is down; ${failed.map((u) => `${u.unit} (${u.lastResult})`).join(', ')} did not succeed`);
          settle(failed.length === 0 ? 0 : 1);
        },
      },
    });
    const forgetEmergency = onEmergency(() => engine.killNow());

    const onSignal = (signal: NodeJS.Signals) => {
      if (!stopping) {
        stopping = true;
        say(`${signal}: stopping every service (press Ctrl-C again to kill them now)`);
        void engine.shutdown().then(() => {
          say('all services stopped');
          settle(0);
        });
        return;
      }
      say(`${signal} again: killing every process group now`);
      engine.killNow();
      settle(130);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.on(signal, onSignal);

    say(`${config.file}: starting ${labels.length} process${labels.length === 1 ? '' : 'es'}; logs in ${config.logDir}`);
    engine.startAll();
    try {
      return await finished;
    } finally {
      for (const signal of signals) process.off(signal, onSignal);
      forgetEmergency();
      engine.close();
    }
  },
};
