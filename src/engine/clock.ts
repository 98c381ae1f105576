// The shell's clock: the one place the engine reads time and arms timers, so the core never does.

export interface Clock {
  now(): number;
  setTimer(delayMs: number, fire: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fire) {
    const handle = setTimeout(fire, Math.max(0, delayMs));
    return () => clearTimeout(handle);
  },
};
