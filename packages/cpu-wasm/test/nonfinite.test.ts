// The non-finite rule of docs/design.md, clause by clause, on small shapes: the rows the rule names are NaN in all
// of out and lse, every other row is bit-for-bit the result without the bad value.

import { assertClose, assertMatchesReference, FLOAT32_TOLERANCE, makeRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult } from '@sparse/core';
import { clusterLabel, normalisedCentroids } from '@sparse/core/backend';
import { referenceAttention64 } from '@sparse/core/reference';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';
import { KERNEL } from './kernel.js';

type Tensor = 'q' | 'k' | 'v';

/** A copy of the request with row `row` (bhsd, b = 0, head `head`) of tensor `t` set to `value` (every entry, or entry `at`). */
function withRow(req: AttentionRequest, t: Tensor, head: number, row: number, value: number, at?: number): AttentionRequest {
  const [, , S, D] = req[t].shape as number[];
  const data = req[t].data.slice();
  const base = (head * S! + row) * D!;
  if (at === undefined) data.fill(value, base, base + D!);
  else data[base + at] = value;
  return { ...req, [t]: { data, shape: req[t].shape } };
}

const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

/** Rows (b = 0, index h · Sq + i) in `nan` are NaN in all of out and lse; the others are bit-identical to `clean`. */
function expectRule(clean: AttentionResult, bad: AttentionResult, nan: Set<number>, label: string): void {
  const Dv = clean.out.shape[3]!;
  const rows = clean.out.data.length / Dv;
  const wrong: string[] = [];
  for (let r = 0; r < rows; r++) {
    const out = bad.out.data.subarray(r * Dv, (r + 1) * Dv);
    const lse = bad.lse!.data[r]!;
    if (nan.has(r)) {
      if (!out.every(Number.isNaN) || !Number.isNaN(lse)) wrong.push(`row ${r} should be NaN (out[0] ${out[0]}, lse ${lse})`);
    } else {
      const want = clean.out.data.subarray(r * Dv, (r + 1) * Dv);
      if (out.some((x, e) => bits(x) !== bits(want[e]!)) || bits(lse) !== bits(clean.lse!.data[r]!))
        wrong.push(`row ${r} changed (out[0] ${out[0]} vs ${want[0]}, lse ${lse} vs ${clean.lse!.data[r]})`);
    }
  }
  expect(wrong.slice(0, 8), `${label}: ${wrong.length} rows break the rule`).toEqual([]);
}

const range = (a: number, b: number) => new Set(Array.from({ length: b - a }, (_, n) => a + n));

/** Rows of the float64 reference whose output moves with v row `key` of head 0: the rows that keep that key. */
function rowsKeeping(req: AttentionRequest, key: number): Set<number> {
  const a = referenceAttention64(withRow(req, 'v', 0, key, 0));
  const b = referenceAttention64(withRow(req, 'v', 0, key, 1));
  const Dv = req.v.shape[3]!;
  const rows = new Set<number>();
  for (let r = 0; r < a.out.length / Dv; r++) if (a.out[r * Dv] !== b.out[r * Dv]) rows.add(r);
  return rows;
}

describe.each([
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
])(`non-finite values (${KERNEL}, %s)`, (_label, options) => {
  const backend = cpuWasm({ ...options, kernel: KERNEL });
  afterAll(() => backend.dispose());

  /**
   * The clean call against the float64 reference, then the rule on the bad one. With `lseRtol`, lse is held to
   * 1e-5 + lseRtol·|gold| instead of the contract's 1e-5 + 2⁻²²·|gold|.
   */
  async function check(req: AttentionRequest, bad: AttentionRequest, nan: Set<number>, label: string, lseRtol?: number): Promise<void> {
    const clean = await backend.attention(req);
    if (lseRtol === undefined) assertMatchesReference(req, clean, FLOAT32_TOLERANCE, label);
    else {
      assertMatchesReference({ ...req, returnLse: false }, clean, FLOAT32_TOLERANCE, label);
      const lseTol = { ...FLOAT32_TOLERANCE, atol: FLOAT32_TOLERANCE.lseAtol, rtol: lseRtol };
      assertClose(clean.lse!.data, referenceAttention64(req).lse, lseTol, `${label}: lse`);
    }
    expectRule(clean, await backend.attention(bad), nan, label);
  }

  // local(2, 2): key 3 is attended by rows 1-5 only; rows 6-63 share its 64-row tile without attending it.
  const band = makeRequest({ Sq: 512, D: 8 }, { kind: 'local', left: 2, right: 2 });
  it.each([
    ['NaN in k', 'k', Number.NaN],
    ['Infinity in k', 'k', Number.POSITIVE_INFINITY],
    ['NaN in v', 'v', Number.NaN],
    ['Infinity in v', 'v', Number.POSITIVE_INFINITY],
    ['-Infinity in v', 'v', Number.NEGATIVE_INFINITY],
  ] as const)('%s of one key: exactly the rows attending it are NaN, the rest of the tile is untouched', async (label, t, value) => {
    await check(band, withRow(band, t, 0, 3, value, 1), range(1, 6), label);
  });

  it('NaN in q of one row makes that row NaN only', async () => {
    await check(band, withRow(band, 'q', 0, 40, Number.NaN, 5), new Set([40]), 'q');
  });

  it('scores that overflow float32 (q, k ≈ ±1e30) make the row NaN, however the overflow goes', async () => {
    // Rows 10-14 attend key 12 (k ≈ 1e30: scores ~1e30, finite); q ≈ ±1e30 in row 10 takes its score past float32.
    // The clean lse there is ~1e29, a few float32 ulps from the float64 one: held to 1e-5 + 1e-6·|gold|.
    const big = withRow(band, 'k', 0, 12, 1e30);
    for (const sign of [1, -1]) await check(big, withRow(big, 'q', 0, 10, sign * 1e30), new Set([10]), `overflow ${sign}`, 1e-6);
  });

  it('large finite scores stay finite: a dot product beyond float32 whose scaled score is not', async () => {
    // D = 16, scale = 1/4: q·k = 16 · 2.5e37 = 4e38 is past float32, the score 1e38 is not. Row 20 attends key 21
    // with that score and others with scores ~1e19, so its out is v of key 21 and its lse 1e38.
    const req = makeRequest({ Sq: 40, D: 16 }, { kind: 'local', left: 3, right: 3 });
    const big = withRow(withRow(req, 'q', 0, 20, 5e18), 'k', 0, 21, 5e18);
    const got = await backend.attention(big);
    expect(Array.from(got.out.data.subarray(20 * 16, 21 * 16))).toEqual(Array.from(big.v.data.subarray(21 * 16, 22 * 16)));
    expect(Math.abs(got.lse!.data[20]! / 1e38 - 1)).toBeLessThan(1e-6);
  });

  it('documents: NaN and Infinity in the padding never reach a real token', async () => {
    const req = makeRequest({ Sq: 256, D: 8 }, { kind: 'documents', offsets: [0, 90, 200] });
    let bad = req;
    for (let j = 200; j < 256; j++) bad = withRow(withRow(bad, 'k', 0, j, j % 2 ? Number.NaN : Number.POSITIVE_INFINITY), 'v', 0, j, Number.NaN);
    await check(req, bad, new Set(), 'documents');
  });

  it('a row with no allowed key gives out 0 and lse -Infinity, even with NaN in its q', async () => {
    // Sq > Sk, causal bottom-right: queries 0-7 see no key.
    const req = makeRequest({ Sq: 24, Sk: 16, D: 8 }, { kind: 'causal' });
    const bad = withRow(req, 'q', 0, 3, Number.NaN);
    const got = await backend.attention(bad);
    expect(Array.from(got.out.data.subarray(3 * 8, 4 * 8))).toEqual(new Array(8).fill(0));
    expect(got.lse!.data[3]).toBe(Number.NEGATIVE_INFINITY);
    expectRule(await backend.attention(req), got, new Set(), 'empty row');
  });

  describe('top-k', () => {
    // Two heads, two kv heads: the bad value is in kv head 0; head 1 must not move.
    const req = makeRequest({ Hq: 2, Sq: 96, D: 8 }, { kind: 'topk', k: 3, within: { kind: 'local', left: 6, right: 6 } });
    const within = (key: number) => range(Math.max(0, key - 6), Math.min(96, key + 7));

    it('NaN in k of a key: every row with it among its candidates is NaN, kept or not', async () => {
      await check(req, withRow(req, 'k', 0, 50, Number.NaN, 2), within(50), 'topk k');
    });

    it('NaN in v of a key: only the rows that keep it are NaN', async () => {
      const keep = rowsKeeping(req, 50);
      expect(keep.size).toBeGreaterThan(0);
      expect(keep.size).toBeLessThan(within(50).size);
      await check(req, withRow(req, 'v', 0, 50, Number.NaN, 0), keep, 'topk v');
    });
  });

  it('cluster: NaN in k of a key poisons the rows of its label that attend it', async () => {
    const centroids = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ];
    const pattern = { kind: 'cluster' as const, centroids, within: { kind: 'local' as const, left: 8, right: 8 } };
    const req = makeRequest({ Sq: 64, D: 4 }, pattern);
    const bad = withRow(req, 'k', 0, 30, Number.NaN);
    // A NaN key row has NaN products with every centroid, none of which wins: label 0.
    const unit = normalisedCentroids(pattern);
    const nan = new Set<number>();
    for (let i = 22; i <= 38; i++) if (clusterLabel(req.q.data, i * 4, unit, 4) === 0) nan.add(i);
    expect(nan.size).toBeGreaterThan(0);
    await check(req, bad, nan, 'cluster');
  });
});
