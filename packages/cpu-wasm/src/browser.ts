// The browser entry (export conditions `browser` and `default`): no Node modules. Same API as index.ts, whose
// declarations both use.
import { type CpuWasmBackend, createCpuWasm } from './backend.js';
import type { CpuWasmOptions } from './options.js';
import { measureSimdPeakOn, type SimdPeak, type SimdPeakOptions } from './peak.js';
import { browserPlatform } from './platform/browser.js';

export type { CpuWasmBackend } from './backend.js';
export type { CpuWasmRunInfo } from './device.js';
export type { KvCacheOptions, WasmKvCache } from './kvcache.js';
export { type CpuWasmOptions, type KernelOption, MAX_THREADS } from './options.js';
export type { SimdPeak, SimdPeakOptions } from './peak.js';
export type { CpuWasmResidentRequest, ResidentOps } from './resident.js';
export type { Fault, PieceStats } from './run.js';
export type { WasmTensor } from './tensor.js';

export function cpuWasm(options: CpuWasmOptions = {}): CpuWasmBackend {
  return createCpuWasm(browserPlatform, options);
}

export function measureSimdPeak(options: SimdPeakOptions = {}): Promise<SimdPeak> {
  return measureSimdPeakOn(browserPlatform, options);
}
