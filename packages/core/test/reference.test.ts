import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planAttention, rowOffset } from '../src/entry/backend.js';
import { blockedAttention64, makePredicate, referenceAttention, referenceAttention64, referenceRows } from '../src/entry/reference.js';
import { type AttentionRequest, local, type Pattern } from '../src/index.js';
import { patternArb } from './arbitraries.js';
import { maxAbsDiff, qkv } from './helpers.js';

/** Textbook attention: a dense boolean mask, masked scores, softmax, weighted sum (tests only). */
function naiveDense(req: AttentionRequest) {
  const plan = planAttention(req);
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv, layout, scale } = plan;
  const out = new Float64Array(B * Hq * Sq * Dv);
  const lse = new Float64Array(B * Hq * Sq);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const allowed = makePredicate(plan.patterns[h]!, plan);
      const hk = Math.floor(h / plan.group);
      for (let i = 0; i < Sq; i++) {
        const s = new Float64Array(Sk).fill(-Infinity);
        for (let j = 0; j < Sk; j++) {
          if (!allowed(i, j)) continue;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += req.q.data[rowOffset(layout, Hq, Sq, D, b, h, i) + d]! * req.k.data[rowOffset(layout, Hkv, Sk, D, b, hk, j) + d]!;
          s[j] = dot * scale;
        }
        const m = Math.max(...s);
        const e = Array.from(s, (x) => (m === -Infinity ? 0 : Math.exp(x - m)));
        const z = e.reduce((a, c) => a + c, 0);
        lse[(b * Hq + h) * Sq + i] = z === 0 ? -Infinity : m + Math.log(z);
        for (let d = 0; d < Dv; d++) {
          let acc = 0;
          for (let j = 0; j < Sk; j++) if (e[j]) acc += e[j]! * req.v.data[rowOffset(layout, Hkv, Sk, Dv, b, hk, j) + d]!;
          out[rowOffset(layout, Hq, Sq, Dv, b, h, i) + d] = z === 0 ? 0 : acc / z;
        }
      }
    }
  return { out, lse };
}

describe('reference attention', () => {
  it('matches a naive dense-softmax implementation, and the BlockMask path matches both (property)', () => {
    const arb = fc
      .record({
        Sq: fc.integer({ min: 1, max: 24 }),
        Sk: fc.integer({ min: 1, max: 24 }),
        D: fc.integer({ min: 1, max: 9 }),
        Dv: fc.integer({ min: 1, max: 7 }),
        group: fc.constantFrom(1, 2, 4),
        Hkv: fc.integer({ min: 1, max: 2 }),
        B: fc.integer({ min: 1, max: 2 }),
        layout: fc.constantFrom('bhsd' as const, 'bshd' as const),
        offset: fc.option(fc.integer({ min: -8, max: 30 }), { nil: undefined }),
        scale: fc.option(fc.double({ min: 0.05, max: 3, noNaN: true }), { nil: undefined }),
        seed: fc.integer({ min: 1, max: 10_000 }),
      })
      .chain((c) => patternArb({ seqQ: c.Sq, seqK: c.Sk, offset: c.offset ?? c.Sk - c.Sq }, 1).map((pattern) => ({ ...c, pattern })));
    fc.assert(
      fc.property(arb, (c) => {
        const req: AttentionRequest = {
          ...qkv({ B: c.B, Hq: c.Hkv * c.group, Hkv: c.Hkv, Sq: c.Sq, Sk: c.Sk, D: c.D, Dv: c.Dv, layout: c.layout, seed: c.seed }),
          pattern: c.pattern,
          ...(c.offset === undefined ? {} : { queryOffset: c.offset }),
          ...(c.scale === undefined ? {} : { scale: c.scale }),
        };
        const want = naiveDense(req);
        const got = referenceAttention64(req);
        expect(maxAbsDiff(got.out, want.out)).toBeLessThan(1e-12);
        expect(maxAbsDiff(got.lse, want.lse)).toBeLessThan(1e-12);
        const blocked = blockedAttention64(req, { tiles: { blockQ: 1 + (c.seed % 7), blockK: 1 + (c.seed % 11) } });
        expect(maxAbsDiff(blocked.out, want.out)).toBeLessThan(1e-12);
        expect(maxAbsDiff(blocked.lse, want.lse)).toBeLessThan(1e-12);
      }),
      { numRuns: 250, seed: 99 },
    );
  });

  it('gives fully masked rows out = 0 and lse = -Infinity, never NaN', () => {
    const req: AttentionRequest = { ...qkv({ Sq: 4, Sk: 4 }), pattern: { kind: 'documents', offsets: [0, 2] }, returnLse: true };
    const r = referenceAttention(req);
    expect(Array.from(r.lse!.data)).toEqual([expect.any(Number), expect.any(Number), -Infinity, -Infinity]);
    expect(Array.from(r.out.data.subarray(16))).toEqual(new Array(16).fill(0));
    expect(r.out.data.some(Number.isNaN)).toBe(false);
  });

  it('uses kv head floor(h / (Hq / Hkv)) for GQA and MQA', () => {
    const base = qkv({ Hq: 4, Hkv: 1, Sq: 5, D: 3 });
    const r = referenceAttention({ ...base, pattern: local(1) });
    // Every query head reads the one kv head: replacing q heads 1..3 by head 0 must give head 0's output.
    const q0 = base.q.data.subarray(0, 15);
    const same = new Float32Array(60);
    for (let h = 0; h < 4; h++) same.set(q0, h * 15);
    const r2 = referenceAttention({ ...base, q: { data: same, shape: [1, 4, 5, 3] }, pattern: local(1) });
    for (let h = 1; h < 4; h++) expect(Array.from(r2.out.data.subarray(h * 15, h * 15 + 15))).toEqual(Array.from(r.out.data.subarray(0, 15)));
  });

  it('per-head patterns apply head by head', () => {
    const base = qkv({ Hq: 2, Sq: 6 });
    const both = referenceAttention({ ...base, pattern: [local(0), { kind: 'dense' }] as Pattern[] });
    // local(0) attends only itself: out = v row.
    expect(Array.from(both.out.data.subarray(0, 8))).toEqual(Array.from(base.v.data.subarray(0, 8)));
    const dense = referenceAttention({ ...base, pattern: { kind: 'dense' } });
    expect(Array.from(both.out.data.subarray(48))).toEqual(Array.from(dense.out.data.subarray(48)));
  });

  it('top-k keeps the k largest scores with exact ties going to the smaller key', () => {
    // q = [1], keys = [2, 1, 2, 2, 0]: scores 2,1,2,2,0 -> top-2 are keys 0 and 2 (tie at 2 broken by index).
    const req: AttentionRequest = {
      q: { data: new Float32Array([1]), shape: [1, 1, 1, 1] },
      k: { data: new Float32Array([2, 1, 2, 2, 0]), shape: [1, 1, 5, 1] },
      v: { data: new Float32Array([10, 20, 30, 40, 50]), shape: [1, 1, 5, 1] },
      pattern: { kind: 'topk', k: 2 },
      scale: 1,
      queryOffset: 4,
    };
    expect(referenceAttention(req).out.data[0]).toBeCloseTo(20, 5); // mean of 10 and 30
    expect(blockedAttention64(req).out[0]).toBeCloseTo(20, 12);
    const many = referenceAttention({ ...req, pattern: { kind: 'topk', k: 9, within: local(1) } });
    // fewer candidates than k (keys 3, 4) keeps them all
    const w = [Math.exp(2), Math.exp(0)];
    expect(many.out.data[0]).toBeCloseTo((40 * w[0]! + 50 * w[1]!) / (w[0]! + w[1]!), 4);
  });

  it('cluster routing attends only keys in the query cluster (ties to the smaller centroid)', () => {
    const req: AttentionRequest = {
      q: { data: new Float32Array([1, 0, 0, 1]), shape: [1, 1, 2, 2] },
      k: { data: new Float32Array([2, 0, 0, 3, 1, 1]), shape: [1, 1, 3, 2] },
      v: { data: new Float32Array([1, 2, 3]), shape: [1, 1, 3, 1] },
      pattern: {
        kind: 'cluster',
        centroids: [
          [1, 0],
          [0, 2],
        ],
      },
      scale: 1,
    };
    const r = referenceAttention(req);
    // query 0 -> cluster 0 with keys 0 and 2 (key 2 = [1,1] ties and goes to cluster 0); query 1 -> key 1 only.
    const e = [Math.exp(2), Math.exp(1)];
    expect(r.out.data[0]).toBeCloseTo((1 * e[0]! + 3 * e[1]!) / (e[0]! + e[1]!), 5);
    expect(r.out.data[1]).toBeCloseTo(2, 6);
    expect(blockedAttention64(req).out[1]).toBeCloseTo(2, 12);
  });

  it('content-based blocked path equals the predicate path on random inputs', () => {
    for (const pattern of [
      { kind: 'topk', k: 3, within: { kind: 'causal' } },
      { kind: 'topk', k: 5 },
      {
        kind: 'cluster',
        centroids: [
          [1, 0, 0, 1],
          [0, 1, 1, 0],
          [1, 1, -1, 0],
        ],
        within: local(6),
      },
    ] as Pattern[]) {
      const req: AttentionRequest = { ...qkv({ B: 2, Hq: 4, Hkv: 2, Sq: 13, Sk: 17, D: 4, Dv: 3, integers: true }), pattern, returnLse: true };
      const a = referenceAttention64(req);
      const b = blockedAttention64(req, { tiles: { blockQ: 4, blockK: 5 } });
      expect(maxAbsDiff(a.out, b.out)).toBeLessThan(1e-12);
      expect(maxAbsDiff(a.lse, b.lse)).toBeLessThan(1e-12);
    }
  });

  it('referenceRows returns sampled rows equal to the full computation', () => {
    const req: AttentionRequest = { ...qkv({ B: 2, Hq: 2, Sq: 9, D: 4, layout: 'bshd' }), pattern: local(2), layout: 'bshd' };
    const full = referenceAttention64(req);
    const [row] = referenceRows(req, [{ b: 1, h: 1, i: 5 }]);
    const at = rowOffset('bshd', 2, 9, 4, 1, 1, 5);
    expect(Array.from(row!.out)).toEqual(Array.from(full.out.subarray(at, at + 4)));
    expect(row!.lse).toBe(full.lse[(1 * 2 + 1) * 9 + 5]);
    expect(() => referenceRows(req, [{ b: 2, h: 0, i: 0 }])).toThrow(/outside the request/);
  });

  it('stops on an aborted signal with ABORTED', () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => blockedAttention64({ ...qkv({ Sq: 4 }), pattern: local(1) }, { signal: ac.signal })).toThrow(expect.objectContaining({ code: 'ABORTED' }));
  });
});
