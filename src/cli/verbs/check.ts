// `tend check`: validate the config and say so; every problem at once, exit 2 when invalid.
// It also says whether the log directories would be refused (another user could tamper with
// them) — creating nothing.
import { inspectLogDir, logDirsOf } from '../../logs/log-files.js';
import { loadOrExplain } from '../load.js';
import { describeContainment } from '../render/ps.js';
import type { Verb } from '../verb.js';

export const checkVerb: Verb = {
  name: 'check',
  summary: 'Validate the config file and report every problem with its line and column.',
  args: '',
  options: {},
  details: 'Exits 0 when the config is valid and 2 when it is not. Nothing is started.',
  async run(input) {
    const config = await loadOrExplain(input, { isCheck: true, shortLived: true });
    for (const { dir } of logDirsOf(config)) {
      const refusal = inspectLogDir(dir);
      if (refusal !== null) throw refusal;
    }
    const units = config.services.reduce((sum, service) => sum + service.instances, 0);
    input.io.stdout.write(`${config.file}: ok (${config.services.length} services, ${units} processes)\n`);
    const { cgroupsPossible } = await import('../../host/cgroup.js');
    const home = cgroupsPossible();
    input.io.stdout.write(`${describeContainment(home === null ? 'process-group' : 'cgroup', home)}\n`);
    return 0;
  },
};
