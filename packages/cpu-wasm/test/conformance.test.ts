import { describeConformance } from '@sparse/conformance/vitest';
import { cpuWasm } from '../dist/index.js';
import { KERNEL } from './kernel.js';

// Every golden case of @sparse/conformance at the float32 tolerance (docs/design.md, Conformance), single- and multi-threaded,
// and on the inline fallback (what a page without cross-origin isolation runs), with the kernel build of the project.
describeConformance({ name: `cpu-wasm ${KERNEL} 1 thread`, create: () => cpuWasm({ threads: 1, kernel: KERNEL }) });
describeConformance({ name: `cpu-wasm ${KERNEL} 2 threads`, create: () => cpuWasm({ threads: 2, kernel: KERNEL }) });
describeConformance({ name: `cpu-wasm ${KERNEL} inline`, create: () => cpuWasm({ inline: true, tiles: { blockQ: 16, blockK: 16 }, kernel: KERNEL }) });
