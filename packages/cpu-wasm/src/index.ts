// The Node entry (export condition `node`); browser.ts is the browser one. Both export the same API.
import { type CpuWasmBackend, createCpuWasm } from './backend.js';
import type { CpuWasmOptions } from './options.js';
import { measureSimdPeakOn, type SimdPeak, type SimdPeakOptions } from './peak.js';
import { nodePlatform } from './platform/node.js';

export type { CpuWasmBackend } from './backend.js';
export type { CpuWasmRunInfo } from './device.js';
export type { KvCacheOptions, WasmKvCache } from './kvcache.js';
export { type CpuWasmOptions, type KernelOption, MAX_THREADS } from './options.js';
export type { SimdPeak, SimdPeakOptions } from './peak.js';
export type { CpuWasmResidentRequest, ResidentOps } from './resident.js';
export type { Fault, PieceStats } from './run.js';
export type { WasmTensor } from './tensor.js';

/**
 * The CPU backend for every platform: fused block-sparse attention in WebAssembly SIMD (AssemblyScript kernels),
 * on a pool of worker threads over one shared WebAssembly.Memory, or single-threaded on the calling thread where
 * SharedArrayBuffer is unavailable.
 */
export function cpuWasm(options: CpuWasmOptions = {}): CpuWasmBackend {
  return createCpuWasm(nodePlatform, options);
}

/**
 * This machine's WebAssembly f32 SIMD peak on one thread for one build of the kernel (`kernel`, chosen as cpuWasm()
 * chooses; the result says which): a micro-benchmark of the kernels' own multiply-add (f32x4.relaxed_madd in the
 * relaxed build, fused where the CPU has FMA; f32x4.mul then f32x4.add in the SIMD128 one) on twelve independent
 * accumulators, so it is bound by the floating-point units. The attention benchmark reports its effective GFLOP/s
 * (4 · nnz · D / t) against it. Runs on the calling thread, about `durationMs` in total (default 600) in `repeats`
 * short runs (default 15: on a shared machine the best short run is the one that had the core to itself), after a
 * warm-up that lets V8 tier up.
 */
export function measureSimdPeak(options: SimdPeakOptions = {}): Promise<SimdPeak> {
  return measureSimdPeakOn(nodePlatform, options);
}
