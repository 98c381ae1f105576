// The data plane: the processes and their output, as one object — local-processes.ts with the
// unit log writer (logs/unit-logs.ts) in front of its output. The keeper runs one (`tend up -d`,
// so services and their logs outlive the engine); a foreground `tend up` runs one in the engine
// itself. Either way the engine sees the same ProcessHost, and a loss of output (a full disk)
// arrives as a host fact like any other.
import { createUnitLogs } from '../logs/unit-logs.js';
import type { Cgroups } from './cgroup.js';
import type { HostListener, ProcessHost, SpawnJournal } from './host.js';
import { createLocalProcesses } from './local-processes.js';

export interface DataPlaneOptions {
  /** Write-ahead record of every spawn (runtime/state-file.ts). */
  readonly journal?: SpawnJournal | undefined;
  /** A cgroup per unit where the system allows; null: process groups only. */
  readonly cgroups?: Cgroups | null | undefined;
  /** A log file that cannot be opened or rotated: one sentence, once per file. */
  readonly warn: (text: string) => void;
}

export type DataPlane = ProcessHost;

export function createDataPlane(listener: HostListener, { journal, cgroups, warn }: DataPlaneOptions): DataPlane {
  const logs = createUnitLogs({ warn, onLoss: (unit, loss) => listener.event({ type: 'log-lost', unit, ...loss }) });
  const echo = (unit: string, stream: 'out' | 'err', lines: readonly Buffer[]): void => {
    if (lines.length > 0) listener.lines?.(unit, stream, lines);
  };
  const processes = createLocalProcesses(
    {
      event: (event) => listener.event(event),
      output: (unit, stream, chunk) => echo(unit, stream, logs.output(unit, stream, chunk)),
      outputEnd: (unit, stream) => echo(unit, stream, logs.end(unit, stream)),
    },
    { journal, cgroups },
  );
  return {
    spawn(spec) {
      processes.spawn(spec); // throws for a unit still running: then nothing else changes
      logs.route(spec.unit, spec.log); // output arrives on a later turn, routed by then
    },
    stopGroup: processes.stopGroup,
    signalGroup: processes.signalGroup,
    killAll: processes.killAll,
    liveUnits: processes.liveUnits,
    commit() {
      // Nothing to keep: the engine that holds the state is this process.
    },
    close: () => logs.close(),
    logStats: async () => logs.written(),
  };
}
