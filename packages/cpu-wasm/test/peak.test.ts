import { describe, expect, it } from 'vitest';
import { measureSimdPeak } from '../dist/index.js';

describe('measureSimdPeak', () => {
  it('measures a positive SIMD128 throughput', async () => {
    const p = await measureSimdPeak({ durationMs: 60, repeats: 3 });
    expect(p.runs).toHaveLength(3);
    expect(p.flopsPerIteration).toBe(96);
    expect(p.gflops).toBeGreaterThan(0.1);
    expect(p.gflops).toBe(Math.max(...p.runs));
  });
});
