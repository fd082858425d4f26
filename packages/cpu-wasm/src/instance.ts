// Kept free of other imports: the worker script loads only this.

/** Exports of the AssemblyScript kernel (assembly/index.ts). */
export interface KernelExports {
  prep(ctx: number, wid: number, maxChunks: number): number;
  topk(ctx: number, wid: number, maxChunks: number): number;
  attend(ctx: number, wid: number, maxChunks: number): number;
  peak(iters: number, x: number, y: number): number;
  PEAK_FLOPS_PER_ITER: WebAssembly.Global;
}

export type Phase = 'prep' | 'topk' | 'attend';

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
