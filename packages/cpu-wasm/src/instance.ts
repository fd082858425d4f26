// Kept free of imports other than abi.ts (integer constants): the worker script loads only this.
import type { PHASE_ATTEND, PHASE_PREP, PHASE_TOPK } from './abi.js';

/** Exports of the AssemblyScript kernel (assembly/index.ts). */
export interface KernelExports {
  prep(ctx: number, wid: number, maxChunks: number): number;
  topk(ctx: number, wid: number, maxChunks: number): number;
  attend(ctx: number, wid: number, maxChunks: number): number;
  peak(iters: number, x: number, y: number): number;
  PEAK_FLOPS_PER_ITER: WebAssembly.Global;
}

/** The two builds of the kernel from one AssemblyScript source (assembly/madd.ts); chosen by the `kernel` option. */
export type KernelBuild = 'relaxed' | 'simd128';

/**
 * The smallest module using a relaxed-SIMD instruction: one function returning f32x4.relaxed_madd of its three v128
 * parameters. An engine validates it exactly when it runs relaxed SIMD.
 */
// biome-ignore format: one line per part of the module
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

/** Whether this engine runs relaxed SIMD (WebAssembly.validate of the probe). */
export function engineHasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/** A phase of a call: PHASE_PREP, PHASE_TOPK or PHASE_ATTEND (abi.ts). */
export type Phase = typeof PHASE_PREP | typeof PHASE_TOPK | typeof PHASE_ATTEND;

/** The kernel's entry point of each phase, by phase. */
export const PHASE_NAMES = ['prep', 'topk', 'attend'] as const satisfies Record<Phase, keyof KernelExports>;

/** Instantiates the kernel on a memory; synchronous, so a worker can redo it right after a trap. */
export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const env = {
    memory,
    abort(_msg: number, _file: number, line: number, column: number): never {
      throw new Error(`cpu-wasm kernel aborted at ${line}:${column}`);
    },
  };
  return new WebAssembly.Instance(module, { env }).exports as unknown as KernelExports;
}

/** Runs one phase's entry point. */
export function runPhase(kernel: KernelExports, phase: Phase, ctx: number, wid: number, maxChunks: number): number {
  return kernel[PHASE_NAMES[phase]](ctx, wid, maxChunks);
}
