export { type CallStats, type CpuWasmBackend, type CpuWasmInfo, cpuWasm } from './backend.js';
export { type CpuWasmOptions, MAX_THREADS } from './options.js';
export { measureSimdPeak, type SimdPeak } from './peak.js';
