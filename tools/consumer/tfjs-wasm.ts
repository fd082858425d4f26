import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** tf.js as the page's project installs it (the peer dependencies of @sparse/tfjs it uses). */
export const TFJS = { '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' };

/**
 * tf.js's wasm backend fetches its .wasm files at run time from the folder `setWasmPaths()` names; no bundler
 * ships them, so the deployment copies them from node_modules: here into `<served>/tfjs-wasm/`.
 */
export function copyTfjsWasm(dir: string, served: string): void {
  const from = join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const file of readdirSync(from).filter((f) => f.endsWith('.wasm'))) cpSync(join(from, file), join(served, 'tfjs-wasm', file));
}
