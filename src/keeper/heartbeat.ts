// How the keeper tells a hung engine from a starved one. The engine answers every ping from the
// first line of its process entry (cli/keeper-channel.ts), before it loads anything heavy, so a
// missing answer means its event loop has not turned. That alone is not a hang: on a busy
// machine or under a CPU quota the engine may simply not get the CPU. So silence is judged
// together with what the engine did meanwhile, read from /proc:
// - silent for 5 s AND 2 s of CPU burnt since its last answer → hung (it runs but never yields:
//   the engine never works that long without yielding, see engine/engine.ts);
// - silent for 60 s whatever its CPU → hung (blocked in a call that never returns, or stopped);
// - while it has never answered (loading code and config), 10 s of CPU and 120 s of silence.
// Silence only counts time the keeper itself was awake: a heartbeat tick that comes late (the
// keeper was starved too) adds at most two intervals, and a verdict waits until the keeper has
// read whatever answers are already waiting in the channel.

export const PING_MS = 2000;

interface Limits {
  readonly silentMs: number;
  readonly spinCpuMs: number;
  readonly blockedMs: number;
}

const RUNNING: Limits = { silentMs: 5000, spinCpuMs: 2000, blockedMs: 60_000 };
const BOOTING: Limits = { silentMs: 5000, spinCpuMs: 10_000, blockedMs: 120_000 };

export type Verdict = 'alive' | 'hung';

export interface Observation {
  /** Keeper-awake time since the engine's last answer (or its start). */
  readonly silentMs: number;
  /** CPU time the engine used since then; null where /proc cannot tell. */
  readonly cpuMs: number | null;
  /** The engine has answered at least once. */
  readonly answered: boolean;
}

export function judge({ silentMs, cpuMs, answered }: Observation): Verdict {
  const limits = answered ? RUNNING : BOOTING;
  if (silentMs < limits.silentMs) return 'alive';
  if (cpuMs !== null && cpuMs >= limits.spinCpuMs) return 'hung';
  return silentMs >= limits.blockedMs ? 'hung' : 'alive';
}

/** Silence bookkeeping for one engine; the clock and the CPU reading are passed in. */
export function createHeartbeat(cpuMsOf: () => number | null, now: () => number) {
  let silentMs = 0;
  let answered = false;
  let lastTick = now();
  let cpuAtAnswer = cpuMsOf();

  return {
    /** An answer from the engine (any pong). */
    answer(): void {
      silentMs = 0;
      answered = true;
      cpuAtAnswer = cpuMsOf();
    },
    /** A heartbeat tick: count the silence since the last one (capped), and judge. */
    tick(): Verdict {
      const at = now();
      silentMs += Math.min(at - lastTick, 2 * PING_MS);
      lastTick = at;
      const cpu = cpuMsOf();
      return judge({ silentMs, cpuMs: cpu === null || cpuAtAnswer === null ? null : cpu - cpuAtAnswer, answered });
    },
    describe: (): string => `${Math.round(silentMs / 1000)} s without an answer`,
  };
}
