// Compiles the AssemblyScript kernel four times into dist/, one source for all of them:
//   kernel.wasm, kernel-st.wasm                 SIMD128 (every engine with WebAssembly SIMD);
//   relaxed/kernel.wasm, relaxed/kernel-st.wasm the same sources with --enable relaxed-simd, where ASC_FEATURE_RELAXED_SIMD
//                                               turns the kernels' multiply-adds into f32x4.relaxed_madd (assembly/madd.ts);
// each as kernel.wasm (shared memory, atomics: the worker pool) and kernel-st.wasm (plain memory: the single-threaded
// fallback where SharedArrayBuffer is unavailable). Both pairs also go as base64 into dist/kernel-embedded.js and
// dist/kernel-relaxed-embedded.js, which browsers load when a bundler or server did not ship the .wasm files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = ['assembly/index.ts', '--runtime', 'stub', '-O3', '--noAssert', '--enable', 'simd', '--importMemory', '--noExportMemory'];
const memories = [
  { file: 'kernel.wasm', flags: ['--enable', 'threads', '--sharedMemory', '--initialMemory', '2', '--maximumMemory', '65536'] },
  { file: 'kernel-st.wasm', flags: ['--initialMemory', '2', '--maximumMemory', '65536'] },
];
const variants = [
  { dir: 'dist', embedded: 'kernel-embedded', flags: [] },
  { dir: 'dist/relaxed', embedded: 'kernel-relaxed-embedded', flags: ['--enable', 'relaxed-simd'] },
];

/**
 * Whether a module has data segments (section 11 with a count above 0). The kernel must have none: it owns no memory
 * below the arena, and the host writes the call context and counters at fixed low addresses (src/abi.ts), which
 * static data (a lookup table of a library function, a string) would be placed over.
 */
function hasDataSegments(bytes) {
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return [value, at];
  };
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at++];
    const [size, body] = leb(at);
    if (id === 11 && leb(body)[0] > 0) return true;
    at = body + size;
  }
  return false;
}

process.chdir(root);
for (const v of variants) {
  mkdirSync(join(root, v.dir), { recursive: true });
  for (const m of memories) {
    const out = `${v.dir}/${m.file}`;
    const { error, stderr } = await asc.main([...common, ...v.flags, ...m.flags, '-o', out]);
    if (error) {
      console.error(stderr.toString());
      console.error(`asc failed for ${out}: ${error.message}`);
      process.exit(1);
    }
    if (hasDataSegments(readFileSync(join(root, out)))) {
      console.error(
        `${out} has static data, which the host's control page would overwrite: the kernel must use none (no Math.* calls with tables, no strings)`,
      );
      process.exit(1);
    }
    console.log(`built ${out}`);
  }
  const base64 = (f) => JSON.stringify(readFileSync(join(root, v.dir, f)).toString('base64'));
  writeFileSync(
    join(root, `dist/${v.embedded}.js`),
    `export const KERNEL_SHARED = ${base64('kernel.wasm')};\nexport const KERNEL_SINGLE = ${base64('kernel-st.wasm')};\n`,
  );
  writeFileSync(join(root, `dist/${v.embedded}.d.ts`), readFileSync(join(root, 'src/kernel-embedded.d.ts')));
  console.log(`built dist/${v.embedded}.js`);
}
