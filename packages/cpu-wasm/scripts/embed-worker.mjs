// Bundles dist/worker.js (the browser worker) into one classic script and writes it as a string to
// dist/worker-embedded.js: browsers start it from a blob: URL when a bundler did not ship dist/worker.js.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({
  entryPoints: [join(root, 'dist/worker.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  logLevel: 'error',
});
const source = out.outputFiles[0].text;
writeFileSync(join(root, 'dist/worker-embedded.js'), `export const WORKER_SOURCE = ${JSON.stringify(source)};\n`);
writeFileSync(join(root, 'dist/worker-embedded.d.ts'), readFileSync(join(root, 'src/worker-embedded.d.ts')));
console.log(`built dist/worker-embedded.js (${source.length} characters)`);
