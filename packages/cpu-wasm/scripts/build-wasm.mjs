// Compiles the AssemblyScript kernel twice into dist/: kernel.wasm (shared memory, atomics: the worker pool) and
// kernel-st.wasm (plain memory: the single-threaded fallback where SharedArrayBuffer is unavailable), and both as
// base64 in dist/kernel-embedded.js, which browsers load when a bundler or server did not ship the .wasm files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = ['assembly/index.ts', '--runtime', 'stub', '-O3', '--noAssert', '--enable', 'simd', '--importMemory', '--noExportMemory'];
const builds = [
  { out: 'dist/kernel.wasm', flags: ['--enable', 'threads', '--sharedMemory', '--initialMemory', '2', '--maximumMemory', '65536'] },
  { out: 'dist/kernel-st.wasm', flags: ['--initialMemory', '2', '--maximumMemory', '65536'] },
];

mkdirSync(join(root, 'dist'), { recursive: true });
process.chdir(root);
for (const b of builds) {
  const { error, stderr } = await asc.main([...common, ...b.flags, '-o', b.out]);
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for ${b.out}: ${error.message}`);
    process.exit(1);
  }
  console.log(`built ${b.out}`);
}

const base64 = (f) => JSON.stringify(readFileSync(join(root, 'dist', f)).toString('base64'));
writeFileSync(
  join(root, 'dist/kernel-embedded.js'),
  `export const KERNEL_SHARED = ${base64('kernel.wasm')};\nexport const KERNEL_SINGLE = ${base64('kernel-st.wasm')};\n`,
);
writeFileSync(join(root, 'dist/kernel-embedded.d.ts'), readFileSync(join(root, 'src/kernel-embedded.d.ts')));
console.log('built dist/kernel-embedded.js');
