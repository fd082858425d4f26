// The browser entry (export conditions `browser` and `default`): no Node modules. Same API as index.ts, whose
// declarations both use.
import { type CpuWasmBackend, createCpuWasm } from './backend.js';
import type { CpuWasmOptions } from './options.js';
import { measureSimdPeakOn, type SimdPeak } from './peak.js';
import { browserPlatform } from './platform/browser.js';

export type { CpuWasmBackend } from './backend.js';
export type { CpuWasmRunInfo } from './device.js';
export { type CpuWasmOptions, MAX_THREADS } from './options.js';
export type { SimdPeak } from './peak.js';
export type { Fault, PieceStats } from './run.js';

export function cpuWasm(options: CpuWasmOptions = {}): CpuWasmBackend {
  return createCpuWasm(browserPlatform, options);
}

export function measureSimdPeak(options: { durationMs?: number; repeats?: number } = {}): Promise<SimdPeak> {
  return measureSimdPeakOn(browserPlatform, options);
}
