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
  ['causal neighborhood K=4 d=2', makeRequest({ Sq: 37, D: 8 }, { kind: 'neighborhood', kernel: 4, dilation: 2, causal: true })],
];

describe.each([
  ['partitioned (default)', {}],
  ['partitionDilation: false', { partitionDilation: false }],
] as const)('dilated heads, %s', (_label, options) => {
  const backend = cpuWasm({ threads: 2, ...options });
  afterAll(() => backend.dispose());
  it.each(CASES)('%s', async (label, req) => {
    assertMatchesReference(req, await backend.attention(req), FLOAT32_TOLERANCE, label);
  });
});

describe('partitionDilation', () => {
  it('runs the groups undilated: the last call holds one group, at full tiles', async () => {
    const backend = cpuWasm({ threads: 1 });
    const pattern: Pattern = { kind: 'dilated', dilation: 4, left: 64, right: 64 };
    const req = makeRequest({ Sq: 1024, D: 16 }, pattern);
    await backend.attention(req);
    const last = backend.lastRun()!;
    const whole = compileBlockMask(pattern, planAttention(req), { blockQ: 32, blockK: 32 }).stats.nnz;
    expect(last.pieces).toBe(4);
    expect(last.nnz).toBe(whole / 4); // one residue group of four, the same pairs
    await backend.dispose();
  });

  it('is validated', () => {
    expect(() => cpuWasm({ partitionDilation: 'yes' as never })).toThrow(/^partitionDilation: must be a boolean/);
  });
});
