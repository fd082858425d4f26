import { describeBehaviour } from '@sparse/conformance/vitest';
import { cpuWasm } from '../dist/index.js';

// What every backend does the same way (bad input, abort, dispose, bursts, input ownership, tolerance, lastRun), on
// the worker pool and on the inline fallback. cpu-wasm has no device tensors yet: no resident hooks.
describeBehaviour({ name: 'cpu-wasm 2 threads', create: (o) => cpuWasm({ threads: 2, ...o }), requireAvailable: true });
describeBehaviour({ name: 'cpu-wasm inline', create: (o) => cpuWasm({ inline: true, ...o }), requireAvailable: true });
