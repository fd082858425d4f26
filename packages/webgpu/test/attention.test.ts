import { FLOAT32_TOLERANCE, makeRequest, type QkvShape, resultShapes, type Tolerance } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, webgpu } from '../src/index.js';
import { mismatch } from './support/data.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

const local = (left: number, right: number): Pattern => ({ kind: 'local', left, right });

interface Case {
  name: string;
  shape: QkvShape;
  pattern: Pattern | Pattern[];
  extra?: Partial<AttentionRequest>;
  tol?: Tolerance;
}

// Small shapes that cover the contract (docs/design.md: tensors, patterns, block masks); lengths are chosen not to be multiples of the tiles.
const cases: Case[] = [
  { name: 'dense, 2 batches', shape: { B: 2, Hq: 2, Sq: 21, D: 8 }, pattern: { kind: 'dense' } },
  { name: 'causal, Sq < Sk (bottom-right)', shape: { Sq: 9, Sk: 40, D: 8 }, pattern: { kind: 'causal' } },
  { name: 'causal, Sq > Sk', shape: { Sq: 37, Sk: 20, D: 8 }, pattern: { kind: 'causal' } },
  { name: 'causal, queryOffset 0 (top-left)', shape: { Sq: 17, Sk: 40, D: 8 }, pattern: { kind: 'causal' }, extra: { queryOffset: 0 } },
  { name: 'local, queryOffset 5', shape: { Sq: 30, Sk: 50, D: 8 }, pattern: local(4, 2), extra: { queryOffset: 5 } },
  { name: 'GQA 4:2, local', shape: { Hq: 4, Hkv: 2, Sq: 33, D: 8 }, pattern: local(5, 5) },
  { name: 'MQA 3:1, causal, bshd', shape: { B: 2, Hq: 3, Hkv: 1, Sq: 19, Sk: 23, D: 8, layout: 'bshd' }, pattern: { kind: 'causal' } },
  { name: 'bshd, Dv != D', shape: { Hq: 2, Sq: 18, D: 8, Dv: 12, layout: 'bshd' }, pattern: local(3, 3) },
  { name: 'Dv > D', shape: { Sq: 20, D: 4, Dv: 24 }, pattern: { kind: 'causal' } },
  { name: 'odd D = 5', shape: { Sq: 25, D: 5 }, pattern: { kind: 'dilated', dilation: 2 } },
  { name: 'D = 1', shape: { Sq: 13, D: 1 }, pattern: { kind: 'causal' } },
  { name: 'D = 80', shape: { Sq: 20, D: 80 }, pattern: local(6, 1) },
  { name: 'D = 256', shape: { Sq: 19, D: 256 }, pattern: { kind: 'causal' } },
  { name: 'D = 256, Dv = 3', shape: { Sq: 11, D: 256, Dv: 3 }, pattern: { kind: 'dense' } },
  { name: 'fully masked rows', shape: { Sq: 20, D: 8 }, pattern: { kind: 'intersect', of: [local(2, 0), { kind: 'documents', offsets: [0, 6, 6, 14] }] } },
  { name: 'all rows masked', shape: { Sq: 9, D: 8 }, pattern: { kind: 'not', of: { kind: 'dense' } } },
  { name: 'explicit CSR with empty rows', shape: { Sq: 4, Sk: 6, D: 8 }, pattern: { kind: 'explicit', rowPtr: [0, 2, 2, 5, 5], colIdx: [0, 5, 1, 2, 3] } },
  {
    name: 'union of local, dilated, global (partial tiles)',
    shape: { Sq: 70, D: 8 },
    pattern: { kind: 'union', of: [local(3, 3), { kind: 'dilated', dilation: 5, left: 4, right: 4 }, { kind: 'global', tokens: [0, 33] }] },
  },
  {
    name: 'per-head patterns with GQA',
    shape: { Hq: 4, Hkv: 2, Sq: 30, D: 8 },
    pattern: [{ kind: 'causal' }, local(2, 2), { kind: 'dilated', dilation: 3 }, { kind: 'randomBlocks', block: 8, perRow: 2, seed: 7 }],
  },
  // Scores near 90 would overflow exp() without the running max; lse ≈ 90 has a float32 spacing of 7.6e-6, so
  // the float32 scores themselves carry ~1e-5 of rounding against the float64 reference.
  { name: 'large scores (scale 40)', shape: { Sq: 40, D: 8 }, pattern: local(20, 20), extra: { scale: 40 }, tol: { ...FLOAT32_TOLERANCE, lseAtol: 5e-5 } },
  { name: 'negative scale', shape: { Sq: 24, D: 8 }, pattern: { kind: 'causal' }, extra: { scale: -0.5 } },
  { name: 'single query (decode)', shape: { Sq: 1, Sk: 77, D: 16 }, pattern: local(30, 0) },
];

describe.skipIf(!gpu.available)(`webgpu attention on ${gpu.device ?? 'no adapter'}`, () => {
  let backend: WebGpuBackend;
  beforeAll(() => {
    backend = webgpu(TEST_OPTIONS);
  });
  afterAll(async () => {
    await backend.dispose();
  });

  for (const c of cases) {
    it(c.name, async () => {
      const request = makeRequest(c.shape, c.pattern, c.extra);
      const got = await backend.attention(request);
      expect(got.out.shape).toEqual(resultShapes(request).out);
      expect(mismatch(request, got, c.tol)).toBeNull();
      expect(got.out.data.some(Number.isNaN)).toBe(false);
    });
  }

  it('returns no lse unless asked', async () => {
    const request = makeRequest({ Sq: 10, D: 8 }, { kind: 'causal' }, { returnLse: false });
    const got = await backend.attention(request);
    expect(got.lse).toBeUndefined();
    expect(mismatch(request, got)).toBeNull();
  });

  it('runs dilated heads by residue groups (default) and directly, both matching the reference', async () => {
    const direct = webgpu({ ...TEST_OPTIONS, partitionDilation: false });
    try {
      const requests = [
        makeRequest({ Hq: 2, Hkv: 1, Sq: 45, D: 8 }, { kind: 'dilated', dilation: 3, left: 5, right: 2 }),
        makeRequest({ Sq: 5, Sk: 41, D: 8, layout: 'bshd' }, { kind: 'dilated', dilation: 4 }),
        makeRequest({ Sq: 7, Sk: 2, D: 8 }, { kind: 'dilated', dilation: 5 }, { queryOffset: 0 }),
        makeRequest({ Sq: 33, D: 8 }, { kind: 'neighborhood', kernel: 5, dilation: 2 }, { queryOffset: 0 }),
      ];
      for (const request of requests) {
        expect(mismatch(request, await backend.attention(request))).toBeNull();
        expect(mismatch(request, await direct.attention(request))).toBeNull();
      }
      // The partitioned call's last dispatch was one residue group (15 of the 45 queries), undilated.
      await backend.attention(requests[0]!);
      expect(backend.lastRun()!.masks[0]!.nnz).toBeLessThanOrEqual(15 * 8);
    } finally {
      await direct.dispose();
    }
    expect(() => webgpu({ partitionDilation: 'no' as never })).toThrow(/partitionDilation: must be a boolean/);
  });

  it('honours custom tiles (blockQ 5, blockK 7) on ragged lengths', async () => {
    const b = webgpu({ ...TEST_OPTIONS, tiles: { blockQ: 5, blockK: 7 } });
    try {
      const request = makeRequest({ Hq: 2, Hkv: 1, Sq: 23, Sk: 31, D: 6 }, { kind: 'union', of: [local(3, 1), { kind: 'global', tokens: [2] }] });
      expect(mismatch(request, await b.attention(request))).toBeNull();
      expect(b.lastRun()).toMatchObject({ blockQ: 5, blockK: 7 });
    } finally {
      await b.dispose();
    }
  });

  describe('top-k', () => {
    it('breaks exact ties towards the smaller key index', async () => {
      // Keys repeat every 4 rows, so every score appears 5 times: the cut falls inside a tie.
      const request = makeRequest({ Sq: 12, Sk: 20, D: 4 }, { kind: 'topk', k: 3 });
      const k = request.k.data;
      for (let j = 4; j < 20; j++) for (let d = 0; d < 4; d++) k[j * 4 + d] = k[(j % 4) * 4 + d]!;
      expect(mismatch(request, await backend.attention(request))).toBeNull();
    });

    it('keeps every candidate when k exceeds them, and runs inside `within`', async () => {
      const request = makeRequest({ Sq: 30, D: 4 }, { kind: 'topk', k: 6, within: { kind: 'causal' } });
      expect(mismatch(request, await backend.attention(request))).toBeNull();
    });

    it('selects over many key blocks (radix passes) with GQA and bshd', async () => {
      const request = makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 21, Sk: 100, D: 4, layout: 'bshd' }, { kind: 'topk', k: 7 });
      expect(mismatch(request, await backend.attention(request))).toBeNull();
      expect(backend.lastRun()!.dispatches).toBeGreaterThan(1);
    });

    it('ties on all-equal scores (zero keys) keep the first k keys', async () => {
      const request = makeRequest({ Sq: 5, Sk: 40, D: 4 }, { kind: 'topk', k: 9 });
      request.k.data.fill(0);
      expect(mismatch(request, await backend.attention(request))).toBeNull();
    });
  });

  describe('cluster', () => {
    const centroids = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 2, 0],
      [0, 0, 2, 0],
    ];
    it('attends keys of the query cluster, ties to the smaller centroid', async () => {
      const request = makeRequest({ Sq: 24, D: 4 }, { kind: 'cluster', centroids });
      expect(mismatch(request, await backend.attention(request))).toBeNull();
    });

    it('with GQA, bshd and a within pattern', async () => {
      const request = makeRequest({ Hq: 4, Hkv: 2, Sq: 18, Sk: 26, D: 4, layout: 'bshd' }, { kind: 'cluster', centroids, within: local(6, 6) });
      expect(mismatch(request, await backend.attention(request))).toBeNull();
    });
  });

  it('mixes static, top-k and cluster heads in one call', async () => {
    const request = makeRequest({ Hq: 4, Hkv: 2, Sq: 27, D: 4 }, [
      { kind: 'topk', k: 4 },
      { kind: 'causal' },
      {
        kind: 'cluster',
        centroids: [
          [0.3, -0.2, 0.9, 0.1],
          [0, 1, 0, 0],
        ],
      },
      { kind: 'topk', k: 2, within: local(5, 0) },
    ]);
    expect(mismatch(request, await backend.attention(request))).toBeNull();
  });

  it('caches pipelines and pools buffers across calls', async () => {
    const request = makeRequest({ Sq: 20, D: 8 }, { kind: 'causal' });
    await backend.attention(request);
    const before = backend.lastRun()!;
    await backend.attention(request);
    const after = backend.lastRun()!;
    expect(after.pipelinesCompiled).toBe(before.pipelinesCompiled);
    expect(after.buffersCreated).toBe(before.buffersCreated);
    expect(after.buffersReused).toBeGreaterThan(before.buffersReused);
  });

  it('runs concurrent calls independently', async () => {
    const a = makeRequest({ Sq: 15, D: 8, seed: 3 }, local(2, 2));
    const b = makeRequest({ Hq: 2, Sq: 22, D: 8, seed: 4 }, { kind: 'causal' });
    const [ra, rb] = await Promise.all([backend.attention(a), backend.attention(b)]);
    expect(mismatch(a, ra)).toBeNull();
    expect(mismatch(b, rb)).toBeNull();
  });

  it('reports the adapter in probe()', async () => {
    const p = await backend.probe();
    expect(p.available).toBe(true);
    expect(p.device).toBeTruthy();
  });
});
