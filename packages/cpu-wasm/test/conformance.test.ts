import { describeConformance } from '@sparse/conformance/vitest';
import { cpuWasm } from '../dist/index.js';

// Every golden case of @sparse/conformance at the float32 tolerance (docs/design.md, Conformance), single- and multi-threaded,
// and on the inline fallback (what a page without cross-origin isolation runs).
describeConformance({ name: 'cpu-wasm 1 thread', create: () => cpuWasm({ threads: 1 }) });
describeConformance({ name: 'cpu-wasm 2 threads', create: () => cpuWasm({ threads: 2 }) });
describeConformance({ name: 'cpu-wasm inline', create: () => cpuWasm({ inline: true, tiles: { blockQ: 16, blockK: 16 } }) });
