// Builds the dashboard into OUTDIR (dist/ui, or .build-test/src/ui for the tests), after the
// build scripts type-checked src/ui with its own tsconfig (the DOM, not Node): bundles src/ui/app.ts with preact and htm into
// one minified ES module, and copies the page and its stylesheet. Nothing is fetched at run time:
// the engine serves these files as they are (api/dashboard.ts). Plain JS: it runs uncompiled.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = resolve(root, process.argv[2] ?? 'dist/ui');
const source = join(root, 'src/ui');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(source, 'app.ts')],
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  legalComments: 'eof',
  outfile: join(outDir, 'app.js'),
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(source, file), join(outDir, file));
