import { tfjs } from '@sparse/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { check } from './check.js';
import { TFJS_THREADS } from './tfjs-settings.js';

const WASM_FOLDER = new URL('tfjs-wasm/', document.baseURI).href;

export async function runTfjs() {
  // tf.js's wasm backend fetches its .wasm files from this folder, which the build fills from node_modules.
  setWasmPaths(WASM_FOLDER);
  if (!TFJS_THREADS) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const backend = tfjs({ tf, backendName: 'wasm' });
  try {
    const result = await check(backend);
    // Which build tf.js chose: the threaded one needs cross-origin isolation.
    const fetched = performance.getEntriesByType('resource').find((e) => e.name.startsWith(WASM_FOLDER));
    return { ...result, wasm: fetched?.name.slice(WASM_FOLDER.length) };
  } finally {
    await backend.dispose();
  }
}
