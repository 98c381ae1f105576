// zod, loaded through require(). Its ESM entry imports some 250 locale modules, which Node's ESM
// loader opens all at once: under a low descriptor limit (`ulimit -n 96`) tend died of EMFILE
// before it could say a word. The CommonJS entry opens them one at a time. Types come from
// `import type { z as Z } from 'zod'` where they are needed.
import { createRequire } from 'node:module';
import type { z as Z } from 'zod';

export const z = (createRequire(import.meta.url)('zod') as { z: typeof Z }).z;
