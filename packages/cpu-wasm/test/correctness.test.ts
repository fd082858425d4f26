import { assertMatchesReference, FLOAT32_TOLERANCE } from '@sparse/conformance/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type CpuWasmOptions, cpuWasm } from '../dist/index.js';
import { CASES } from './cases.js';
import { KERNEL } from './kernel.js';

// Every case against core's float64 reference, on the worker pool (1 and 2 threads, several tile shapes) and on
// the single-threaded inline fallback, with the kernel build of the project.
const CONFIGS: [string, CpuWasmOptions][] = [
  ['1 thread', { threads: 1 }],
  ['2 threads', { threads: 2 }],
  ['2 threads, 8 × 8 tiles', { threads: 2, tiles: { blockQ: 8, blockK: 8 } }],
  ['inline, 4 × 16 tiles', { inline: true, tiles: { blockQ: 4, blockK: 16 } }],
  ['3 threads, 16 × 64 tiles', { threads: 3, tiles: { blockQ: 16, blockK: 64 } }],
];

describe.each(CONFIGS)(`cpu-wasm ${KERNEL} %s`, (_label, options) => {
  const backend = cpuWasm({ ...options, kernel: KERNEL });
  afterAll(() => backend.dispose());

  it('probes available', async () => {
    const p = await backend.probe();
    expect(p.available, p.reason).toBe(true);
    expect(p.device).toMatch(options.inline ? /single-threaded/ : new RegExp(`${options.threads} worker thread`));
  });

  it.each(CASES)('%s', async (label, req) => {
    expect(backend.supports(req)).toBe(true);
    assertMatchesReference(req, await backend.attention(req), FLOAT32_TOLERANCE, label);
  });
});
