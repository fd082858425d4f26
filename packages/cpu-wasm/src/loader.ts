import { SparseAttentionError } from '@sparse/core';
import { engineHasRelaxedSimd, type KernelBuild } from './instance.js';
import type { KernelOption } from './options.js';
import type { Platform } from './platform/types.js';

/** The build a `kernel` option runs on this engine, and why it is not the relaxed one when it is not. */
export interface KernelChoice {
  build: KernelBuild;
  /** Why the SIMD128 build runs (absent for the relaxed build). */
  reason?: string;
}

const NO_RELAXED = 'this engine has no relaxed SIMD, it rejects f32x4.relaxed_madd; Node 20 runs it only with --experimental-wasm-relaxed-simd';

/** 'auto' → the relaxed build where the engine runs relaxed SIMD; a forced 'relaxed' without it is BACKEND_UNAVAILABLE. */
export function chooseKernel(option: KernelOption): KernelChoice {
  if (option === 'simd128') return { build: 'simd128', reason: "kernel: 'simd128' was requested" };
  if (engineHasRelaxedSimd()) return { build: 'relaxed' };
  if (option === 'relaxed')
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: kernel: 'relaxed' was requested, but ${NO_RELAXED}`, { field: 'kernel' });
  return { build: 'simd128', reason: NO_RELAXED };
}

/** Loads and compiles one kernel variant; failures (no SIMD, missing file) become BACKEND_UNAVAILABLE. */
export async function compileKernel(platform: Platform, shared: boolean, build: KernelBuild): Promise<WebAssembly.Module> {
  const name = `${build === 'relaxed' ? 'relaxed/' : ''}${shared ? 'kernel.wasm' : 'kernel-st.wasm'}`;
  let loaded: Awaited<ReturnType<Platform['kernelBytes']>>;
  try {
    loaded = await platform.kernelBytes(shared, build);
  } catch (e) {
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: cannot load the kernel ${name} (${(e as Error).message}); was the package built?`, {
      field: 'kernel',
      cause: e,
    });
  }
  try {
    return await WebAssembly.compile(loaded.bytes as BufferSource);
  } catch (e) {
    const needs = `WebAssembly ${build === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'}${shared ? ' and threads' : ''}`;
    throw new SparseAttentionError(
      'BACKEND_UNAVAILABLE',
      `cpu-wasm: this runtime cannot compile the kernel from ${loaded.source} (${needs} are required): ${(e as Error).message}`,
      {
        field: 'kernel',
        cause: e,
      },
    );
  }
}
