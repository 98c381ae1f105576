// Process groups a dead engine left behind, found through its state file. Until the keeper can
// hand them over (adoption), a new engine ends them before starting its own copies: never two
// copies of a service, never a signal to a PID whose start time does not match the record.
import { liveGroups } from '../host/proc.js';
import { survivors, type StateFile } from './state-file.js';

const GRACE_MS = 5000;

export async function endLeftovers(state: StateFile): Promise<Array<{ unit: string; pid: number }>> {
  const found = survivors(state); // start times checked here, just before the signals
  const groups = new Set(found.map((f) => f.pid));
  for (const pgid of groups) signal(-pgid, 'SIGTERM');
  for (const pgid of groups) signal(-pgid, 'SIGCONT');
  const deadline = Date.now() + GRACE_MS;
  while (liveGroups(groups).size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pgid of liveGroups(groups)) signal(-pgid, 'SIGKILL');
  return found;
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // ESRCH: already gone
  }
}
