import { referenceAttention } from '@sparse/core/reference';
import { afterAll, describe, expect, it } from 'vitest';
import { plainJs } from '../src/plain-js.js';
import { createTarget } from '../src/targets/registry.js';
import type { TargetSpec } from '../src/types.js';
import { buildPattern, makeCase, type PatternName } from '../src/workloads.js';
import { context, RssSampler } from './helpers.js';

const sampler = new RssSampler();
afterAll(() => sampler.dispose());

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

describe('plain-js peer', () => {
  for (const p of ['sliding', 'dilated', 'bigbird', 'topk', 'cluster'] as PatternName[]) {
    it(`matches core's reference on ${p} (GQA 4:2, ragged tiles)`, async () => {
      const c = makeCase(p, { seq: 100, headDim: 12, headsQ: 4, headsKv: 2, window: 16 });
      const { inputs } = context(c, sampler);
      const request = { ...inputs, pattern: buildPattern(c) };
      const b = plainJs();
      const got = await b.attention(request);
      expect(maxErr(got.out.data, referenceAttention(request).out.data)).toBeLessThan(2e-6);
      await b.dispose();
    });
  }
});

describe('peers through the harness (every row checked against core’s float64 reference)', () => {
  const specs: TargetSpec[] = [
    { kind: 'peer', name: 'tfjs-wasm-dense', threads: 1, label: 'tfjs-wasm-dense@1t' },
    { kind: 'peer', name: 'ort-dense', threads: 1, label: 'ort-dense@1t' },
    { kind: 'peer', name: 'ort-gqa', threads: 1, label: 'ort-gqa@1t' },
  ];
  for (const spec of specs) {
    it(`${spec.label} matches the reference, whole and sliced (extrapolated)`, async () => {
      const target = await createTarget(spec);
      expect(target.info.available).toBe(true);
      try {
        for (const p of ['causal-sliding', 'longformer', 'topk'] as PatternName[]) {
          const c = makeCase(p, { seq: 256, headDim: 16, headsQ: 4, headsKv: 2, window: 24 });
          // Peers run in full wherever they fit the memory budget: sliced here by a budget of 64 rows' worth of score
          // matrix (bytes per row: 4 · H · N for GQA, three times that for the dense peers; see denseRows).
          const rowBytes = (spec.name === 'ort-gqa' ? 1 : 3) * 4 * 4 * 256;
          for (const sliced of [false, true]) {
            const r = await target.run(context(c, sampler, sliced ? { denseMemoryBytes: 64 * rowBytes } : {}));
            if (spec.name === 'ort-gqa' && p !== 'causal-sliding') {
              expect(r.status).toBe('n/a');
              continue;
            }
            expect(r.status, r.reason).toBe('ok');
            expect(r.time!.extrapolated).toBe(sliced);
            expect(r.time!.rows).toBe(sliced ? 64 : 256);
            if (sliced) expect(r.time!.fit?.halfRows).toBe(32);
            expect(r.check!.rows).toBeGreaterThanOrEqual(4 * 64);
            expect(r.check!.maxAbsErr).toBeLessThan(1e-5);
            expect(r.check!.ok).toBe(true);
          }
        }
      } finally {
        await target.dispose();
      }
    });
  }

  it('tfjs-wasm-dense reports tf.js peak bytes and leaks no tensors', async () => {
    const target = await createTarget({ kind: 'peer', name: 'tfjs-wasm-dense', threads: 1, label: 't' });
    const c = makeCase('sliding', { seq: 128, headDim: 16, headsQ: 2, headsKv: 2, window: 16 });
    const r = await target.run(context(c, sampler));
    expect(r.memory?.tfPeakBytes).toBeGreaterThan(3 * 128 * 16 * 4);
    expect(r.memory?.tfNumBytes).toBe(0);
    await target.dispose();
  });
});
