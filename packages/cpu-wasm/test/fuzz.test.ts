import { describeFuzz } from '@sparse/conformance/vitest';
import { type CpuWasmBackend, cpuWasm } from '../dist/index.js';

// The shared fuzz properties (random valid and invalid requests, concurrency, leaks) on each way cpu-wasm runs.
// The wasm memory only grows to fit the largest call, so after the warm-up it must not grow again.
for (const [name, make] of [
  ['cpu-wasm 1 thread', () => cpuWasm({ threads: 1 })],
  ['cpu-wasm 2 threads', () => cpuWasm({ threads: 2 })],
  ['cpu-wasm inline', () => cpuWasm({ inline: true })],
] as const) {
  let backend: CpuWasmBackend | undefined;
  describeFuzz({
    name,
    create: () => {
      backend = make();
      return backend;
    },
    resources: () => ({ wasmMemoryBytes: backend!.lastRun()?.memoryBytes ?? 0 }),
    requireAvailable: true,
  });
}
