// Descriptors a process was started with but never asked for — `exec 100</root/secret` in the
// shell that ran `tend up -d`, a CI runner's pipe — would be inherited by tend and then by
// every service, holding pipes open (a CI step waits for EOF forever) or handing out files.
// Node opens all of its own descriptors close-on-exec, so any descriptor above 2 without
// FD_CLOEXEC was inherited: closed here, at the first line of each tend entry point.
import { closeSync, readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

export function closeInheritedDescriptors(): void {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return; // no /proc (not Linux): nothing to read, nothing closed
  }
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
      if (flags !== undefined && (Number.parseInt(flags, 8) & O_CLOEXEC) === 0) closeSync(fd);
    } catch {
      // gone meanwhile (the directory listing's own descriptor): nothing to close
    }
  }
}
