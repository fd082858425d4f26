import { SparseAttentionError } from '@sparse/core';
import { isNode } from './env.js';

export { instantiateKernel, type KernelExports, type Phase } from './instance.js';

/** The shipped kernel: kernel.wasm imports a shared memory (worker pool), kernel-st.wasm a plain one. */
export function kernelUrl(shared: boolean): URL {
  return shared ? new URL('./kernel.wasm', import.meta.url) : new URL('./kernel-st.wasm', import.meta.url);
}

async function kernelBytes(url: URL): Promise<ArrayBuffer | Uint8Array> {
  if (isNode() && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url.href}`);
  return res.arrayBuffer();
}

/** Fetches and compiles one kernel variant; failures (no SIMD, missing file) become BACKEND_UNAVAILABLE. */
export async function compileKernel(shared: boolean): Promise<WebAssembly.Module> {
  const url = kernelUrl(shared);
  let bytes: ArrayBuffer | Uint8Array;
  try {
    bytes = await kernelBytes(url);
  } catch (e) {
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: cannot load the kernel ${url.href} (${(e as Error).message}); was the package built?`, {
      field: 'kernel',
      cause: e,
    });
  }
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    throw new SparseAttentionError(
      'BACKEND_UNAVAILABLE',
      `cpu-wasm: this runtime cannot compile the kernel (WebAssembly SIMD128${shared ? ' and threads' : ''} are required): ${(e as Error).message}`,
      { field: 'kernel', cause: e },
    );
  }
}
