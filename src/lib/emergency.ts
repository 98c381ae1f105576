// Last-resort hooks run when tend dies of an internal error: whatever holds process groups
// registers how to kill them synchronously, so a crash of tend never leaves orphans.
const hooks = new Set<() => void>();

export function onEmergency(hook: () => void): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

export function runEmergencyHooks(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // Keep going: the next hook may still save something.
    }
  }
}
