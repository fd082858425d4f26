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
