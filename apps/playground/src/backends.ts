import { cpuWasm, reference, tfjs, type UsedBackend, webgpu } from './sparse.js';
import type { BackendId } from './state.js';

export const BACKEND_LABELS: Record<BackendId, string> = {
  'cpu-wasm': 'cpu-wasm (WebAssembly SIMD)',
  webgpu: 'webgpu (WGSL)',
  'tfjs-webgpu': 'tfjs on webgpu',
  'tfjs-wasm': 'tfjs on wasm',
  'tfjs-cpu': 'tfjs on cpu',
  reference: 'reference (core, float64 JS)',
};

/**
 * tf.js and the backend package it runs on, loaded on first use (tf.js is most of the page's weight). The wasm
 * backend fetches its .wasm files from `tfjs-wasm/` next to the page, which the build fills. Its threaded build is
 * turned off: it starts workers from the source text of a function in the bundle, which minifiers break.
 */
async function tfWith(name: 'webgpu' | 'wasm' | 'cpu') {
  const tf = await import('@tensorflow/tfjs-core');
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(new URL('tfjs-wasm/', document.baseURI).href);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } else if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  else await import('@tensorflow/tfjs-backend-cpu');
  return tf;
}

async function create(id: BackendId): Promise<UsedBackend> {
  switch (id) {
    case 'cpu-wasm':
      // Workers when the page is cross-origin isolated, its inline fallback otherwise: probe() says which.
      return cpuWasm();
    case 'webgpu':
      return webgpu();
    case 'tfjs-webgpu':
      return tfjs({ tf: await tfWith('webgpu'), backendName: 'webgpu' });
    case 'tfjs-wasm':
      return tfjs({ tf: await tfWith('wasm'), backendName: 'wasm' });
    case 'tfjs-cpu':
      return tfjs({ tf: await tfWith('cpu'), backendName: 'cpu' });
    case 'reference':
      return reference();
  }
}

/** One backend object per kind for the page's lifetime (cpu-wasm keeps its workers, webgpu its device). */
const live = new Map<BackendId, Promise<UsedBackend>>();

export function backendFor(id: BackendId): Promise<UsedBackend> {
  let b = live.get(id);
  if (!b) {
    b = create(id);
    live.set(id, b);
    b.catch(() => live.delete(id));
  }
  return b;
}

/** A backend that failed for good (device lost, disposed): the next run makes a new one. */
export function forget(id: BackendId): void {
  const b = live.get(id);
  live.delete(id);
  b?.then((x) => x.dispose()).catch(() => undefined);
}

export function disposeAll(): void {
  for (const id of [...live.keys()]) forget(id);
}
