import { describeBehaviour, type ResidentHooks } from '@sparse/conformance/vitest';
import type { Backend } from '@sparse/core';
import { type CpuWasmBackend, cpuWasm, type WasmTensor } from '../dist/index.js';

// What every backend does the same way (bad input, abort, dispose, bursts, input ownership, resident tensors,
// tolerance, lastRun), on the worker pool and on the inline fallback.
const resident: ResidentHooks<WasmTensor> = {
  upload: (t, b: Backend) => (b as CpuWasmBackend).upload(t),
  download: (t, b: Backend) => (b as CpuWasmBackend).download(t),
  release: (t) => t.release(),
};
describeBehaviour({ name: 'cpu-wasm 2 threads', create: (o) => cpuWasm({ threads: 2, ...o }), requireAvailable: true, resident });
describeBehaviour({ name: 'cpu-wasm inline', create: (o) => cpuWasm({ inline: true, ...o }), requireAvailable: true, resident });
