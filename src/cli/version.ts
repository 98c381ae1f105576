// tend's version, read from the package.json that ships beside the code (the npm package is
// tend-supervisor: the name tend belongs to an unrelated package; the command is still `tend`).
import fs from 'node:fs';

export function version(): string {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 5; depth++, dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tend-supervisor' && pkg.version) return pkg.version;
    } catch {
      // Not here; look one level up.
    }
  }
  return 'unknown';
}
