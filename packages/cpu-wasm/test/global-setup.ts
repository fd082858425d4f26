import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The suites exercise the built package (worker threads load dist/worker.js and dist/*.wasm). */
export default function setup(): void {
  for (const f of ['index.js', 'worker.js', 'kernel.wasm', 'kernel-st.wasm', 'relaxed/kernel.wasm', 'relaxed/kernel-st.wasm']) {
    const path = fileURLToPath(new URL(`../dist/${f}`, import.meta.url));
    if (!existsSync(path)) throw new Error(`@sparse/cpu-wasm tests need the build: ${path} is missing (run \`pnpm build\` in packages/cpu-wasm first)`);
  }
}
