import { SparseAttentionError } from '@sparse/core';
import type { Platform } from './platform/types.js';

/** Loads and compiles one kernel variant; failures (no SIMD, missing file) become BACKEND_UNAVAILABLE. */
export async function compileKernel(platform: Platform, shared: boolean): Promise<WebAssembly.Module> {
  const name = shared ? 'kernel.wasm' : 'kernel-st.wasm';
  let loaded: Awaited<ReturnType<Platform['kernelBytes']>>;
  try {
    loaded = await platform.kernelBytes(shared);
  } catch (e) {
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: cannot load the kernel ${name} (${(e as Error).message}); was the package built?`, {
      field: 'kernel',
      cause: e,
    });
  }
  try {
    return await WebAssembly.compile(loaded.bytes as BufferSource);
  } catch (e) {
    throw new SparseAttentionError(
      'BACKEND_UNAVAILABLE',
      `cpu-wasm: this runtime cannot compile the kernel from ${loaded.source} (WebAssembly SIMD128${shared ? ' and threads' : ''} are required): ${(e as Error).message}`,
      { field: 'kernel', cause: e },
    );
  }
}
