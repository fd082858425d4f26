import { assertMatchesReference, FLOAT32_TOLERANCE, makeRequest } from '@sparse/conformance/testing';
import { type AttentionRequest, compileBlockMask, type Pattern } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

// Dilated heads run as calls over residue groups (core's residuePartition), undilated; partitionDilation: false
// runs the dilated masks directly. Both must match the float64 reference on every shape the partition meets:
// offsets (decoding, negative), Sk < d (groups without keys), both layouts, GQA, per-head windows, neighborhood.
const CASES: [string, AttentionRequest][] = [
  ['d=3, L=6, R=2', makeRequest({ Sq: 70, D: 8 }, { kind: 'dilated', dilation: 3, left: 6, right: 2 })],
  ['d=4 unbounded, bshd, GQA', makeRequest({ Hq: 4, Hkv: 2, Sq: 61, D: 12, Dv: 5, layout: 'bshd' }, { kind: 'dilated', dilation: 4 })],
  ['decoding: Sq=5 of Sk=83', makeRequest({ Sq: 5, Sk: 83, D: 8 }, { kind: 'dilated', dilation: 2, left: 10, right: 0 })],
  ['negative offset', makeRequest({ Sq: 40, Sk: 30, D: 8 }, { kind: 'dilated', dilation: 3, left: 4, right: 4 }, { queryOffset: -7 })],
  ['Sk < d: groups without keys', makeRequest({ Sq: 9, Sk: 2, D: 8 }, { kind: 'dilated', dilation: 5 }, { queryOffset: 0 })],
  [
    'per-head windows',
    makeRequest({ Hq: 3, Sq: 50, D: 8 }, [
      { kind: 'dilated', dilation: 2, left: 3, right: 3 },
      { kind: 'dilated', dilation: 2, left: 9 },
      { kind: 'dilated', dilation: 2, right: 1 },
    ]),
  ],
  ['neighborhood K=5 d=3', makeRequest({ Sq: 64, D: 8 }, { kind: 'neighborhood', kernel: 5, dilation: 3 })],
  // The groups run as one chain of contexts, one dispatch per phase for all of them. (Top-k and cluster heads over a
  // dilated window run unpartitioned.)
  ['d=16: sixteen chained groups', makeRequest({ Hq: 2, Sq: 100, D: 8 }, { kind: 'dilated', dilation: 16, left: 3, right: 2 })],
  ['top-k within d=2', makeRequest({ Sq: 48, D: 8 }, { kind: 'topk', k: 5, within: { kind: 'dilated', dilation: 2, left: 8, right: 8 } })],
  [
    'cluster within d=3',
    makeRequest(
      { Sq: 45, D: 8 },
      {
        kind: 'cluster',
        centroids: [
          [1, 0, 0, 0, 1, 0, 0, 0],
          [0, 1, 0, -1, 0, 0, 1, 0],
        ],
        within: { kind: 'dilated', dilation: 3, left: 6, right: 6 },
      },
    ),
  ],
  ['causal neighborhood K=4 d=2', makeRequest({ Sq: 37, D: 8 }, { kind: 'neighborhood', kernel: 4, dilation: 2, causal: true })],
];

describe.each([
  ['partitioned (default)', { threads: 2 }],
  ['partitionDilation: false', { threads: 2, partitionDilation: false }],
  // The calling thread's slices walk the chain of group contexts again on every slice.
  ['partitioned, on the calling thread (inline)', { inline: true }],
] as const)('dilated heads, %s', (_label, options) => {
  const backend = cpuWasm(options);
  afterAll(() => backend.dispose());
  it.each(CASES)('%s', async (label, req) => {
    assertMatchesReference(req, await backend.attention(req), FLOAT32_TOLERANCE, label);
    // Partitioned: the residue groups read one copy of the inputs through strides.
    const last = backend.lastRun()!;
    expect(last.inPlace).toBe(last.pieces > 1);
  });
});

describe('dilated heads in place', () => {
  it('the first call (device not started yet) and later ones run the groups in place', async () => {
    const backend = cpuWasm({ threads: 2 });
    for (const [label, req] of CASES.slice(0, 3)) {
      assertMatchesReference(req, await backend.attention(req), FLOAT32_TOLERANCE, label);
      expect(backend.lastRun()!.inPlace, label).toBe(true);
    }
    await backend.dispose();
  });

  it('a call above splitBytes gathers each group instead (the memory holds one group), with the same results', async () => {
    const req = CASES[0]![1];
    const small = cpuWasm({ threads: 1, splitBytes: 5000 });
    const got = await small.attention(req);
    expect(small.lastRun()!.inPlace).toBe(false);
    expect(small.lastRun()!.pieces).toBeGreaterThan(1);
    assertMatchesReference(req, got, FLOAT32_TOLERANCE);
    await small.dispose();
  });

  it('non-finite values poison the same rows as when each group is gathered', async () => {
    const req = makeRequest({ Hq: 2, Sq: 60, D: 8 }, { kind: 'dilated', dilation: 3, left: 4, right: 4 });
    req.v.data[17 * 8 + 2] = Number.NaN; // head 0, key 17 (residue 2)
    req.k.data[(60 + 31) * 8] = Number.POSITIVE_INFINITY; // head 1, key 31 (residue 1)
    const inPlace = cpuWasm({ threads: 2 });
    const gathered = cpuWasm({ threads: 2, splitBytes: 2000 });
    const a = await inPlace.attention(req);
    const b = await gathered.attention(req);
    expect(inPlace.lastRun()!.inPlace).toBe(true);
    expect(gathered.lastRun()!.inPlace).toBe(false);
    assertMatchesReference(req, a, FLOAT32_TOLERANCE);
    expect(Array.from(a.lse!.data).map(Number.isNaN)).toEqual(Array.from(b.lse!.data).map(Number.isNaN));
    expect(a.lse!.data.some(Number.isNaN)).toBe(true);
    await Promise.all([inPlace.dispose(), gathered.dispose()]);
  });
});

describe('partitionDilation', () => {
  const pattern: Pattern = { kind: 'dilated', dilation: 4, left: 64, right: 64 };
  const req = makeRequest({ Sq: 1024, D: 16 }, pattern);
  const whole = compileBlockMask(pattern, planAttention(req), { blockQ: 32, blockK: 32 }).stats.nnz;

  it('runs the groups undilated, in place: lastRun() sums the four groups (the same pairs, prep once)', async () => {
    const backend = cpuWasm({ threads: 1 });
    await backend.attention(req);
    const last = backend.lastRun()!;
    expect(last.pieces).toBe(4);
    expect(last.inPlace).toBe(true);
    expect(last.nnz).toBe(whole);
    const ms = last.phaseMs!;
    expect(ms.prep).toBeGreaterThan(0);
    expect(ms.attend).toBeGreaterThan(0);
    expect(ms.total).toBeGreaterThanOrEqual(ms.setup + ms.prep + ms.attend + ms.read);
    await backend.dispose();
  });

  it('gathered (above splitBytes): the last call holds one group, at full tiles', async () => {
    const backend = cpuWasm({ threads: 1, splitBytes: 20_000 });
    await backend.attention(req);
    const last = backend.lastRun()!;
    expect(last.pieces).toBe(4);
    expect(last.inPlace).toBe(false);
    expect(last.nnz).toBe(whole / 4); // one residue group of four
    await backend.dispose();
  });

  it('is validated', () => {
    expect(() => cpuWasm({ partitionDilation: 'yes' as never })).toThrow(/^partitionDilation: must be a boolean/);
  });
});
