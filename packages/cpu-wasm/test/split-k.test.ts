// Split-K: with fewer attention tasks than two per thread (decode over one kv head, a short prefill of one head),
// each task's listed key blocks are shared by several tasks and their partial results merged by log-sum-exp. Every
// case here splits on 2 threads (checked through lastRun().keySplits) and must match the float64 reference, and
// the 1-thread run of the same call (which does not split).

import { assertMatchesReference, FLOAT32_TOLERANCE, makeRequest, resultMismatch } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';
import { KERNEL } from './kernel.js';

const causal: Pattern = { kind: 'causal' };
const decode = (pattern: Pattern | Pattern[], extra: Partial<AttentionRequest> = {}, Hq = 4): AttentionRequest =>
  makeRequest({ Hq, Hkv: 1, Sq: 1, Sk: 1000, D: 16, Dv: 12, seed: 21 }, pattern, { queryOffset: 999, ...extra });

/** A copy of the request with entry `at` of row `row` of k or v (head 0, batch 0, bhsd) set to `value`. */
function withValue(req: AttentionRequest, t: 'k' | 'v', row: number, at: number, value: number): AttentionRequest {
  const D = req[t].shape[3]!;
  const data = req[t].data.slice();
  data[row * D + at] = value;
  return { ...req, [t]: { data, shape: req[t].shape } };
}

const CASES: [string, AttentionRequest][] = [
  ['decode, MQA 4:1, causal', decode(causal)],
  ['decode, MQA 4:1, causal window', decode({ kind: 'local', left: 400, right: 0 })],
  [
    'decode, global tokens and a window (a split with one block)',
    decode({
      kind: 'union',
      of: [
        { kind: 'global', tokens: [0, 1] },
        { kind: 'local', left: 300, right: 0 },
      ],
    }),
  ],
  ['decode, top-k over the causal keys', decode({ kind: 'topk', k: 40, within: causal })],
  ['decode, cluster', decode({ kind: 'cluster', centroids: [Array.from({ length: 16 }, (_, d) => (d % 2 ? 1 : -1)), Array(16).fill(1)], within: causal })],
  ['decode, per-head patterns (2 heads, not packed)', decode([causal, { kind: 'local', left: 200, right: 0 }], {}, 2)],
  ['decode, no lse asked', decode(causal, { returnLse: false })],
  ['short prefill, one head', makeRequest({ Sq: 40, Sk: 1500, D: 8, seed: 5 }, { kind: 'local', left: 600, right: 0 }, { queryOffset: 1460 })],
  ['decode, NaN in one v row (the first split)', withValue(decode(causal), 'v', 10, 3, Number.NaN)],
  ['decode, Infinity in one k row (the last split)', withValue(decode(causal), 'k', 990, 0, Number.POSITIVE_INFINITY)],
  ['decode, NaN in a v row outside the window', withValue(decode({ kind: 'local', left: 400, right: 0 }), 'v', 10, 3, Number.NaN)],
];

describe(`split-K (${KERNEL})`, () => {
  const two = cpuWasm({ threads: 2, kernel: KERNEL });
  const one = cpuWasm({ threads: 1, kernel: KERNEL });
  afterAll(() => Promise.all([two.dispose(), one.dispose()]));

  it.each(CASES)('%s: splits on 2 threads, matches the reference and the unsplit call', async (label, req) => {
    const got = await two.attention(req);
    expect(two.lastRun()!.keySplits, label).toBeGreaterThan(1);
    assertMatchesReference(req, got, FLOAT32_TOLERANCE, label);
    const unsplit = await one.attention(req);
    expect(one.lastRun()!.keySplits).toBe(1);
    expect(resultMismatch(got, unsplit, FLOAT32_TOLERANCE), label).toBeNull();
  });

  it('poisons exactly the rows the non-finite rule names', async () => {
    const window: Pattern = { kind: 'local', left: 400, right: 0 };
    // Head 1's window misses key 10; head 0 attends every key.
    const req = withValue(decode([causal, window], {}, 2), 'v', 10, 3, Number.NaN);
    const got = await two.attention(req);
    expect(two.lastRun()!.keySplits).toBeGreaterThan(1);
    expect(Number.isNaN(got.lse!.data[0]!)).toBe(true);
    expect(Array.from(got.out.data.subarray(0, 12)).every(Number.isNaN)).toBe(true);
    expect(Number.isFinite(got.lse!.data[1]!)).toBe(true);
  });

  it('KV cache decode splits too, and matches attention() over the same keys', async () => {
    const D = 16;
    const full = makeRequest({ Hq: 8, Hkv: 1, Sq: 600, D, seed: 9 }, causal);
    const cache = await two.kvCache({ headsKv: 1, headDim: D, capacity: 600 });
    const rows = (t: 'k' | 'v', a: number, b: number) => ({ data: full[t].data.slice(a * D, b * D), shape: [1, 1, b - a, D] });
    await cache.append(rows('k', 0, 599), rows('v', 0, 599));
    await cache.append(rows('k', 599, 600), rows('v', 599, 600));
    const q = { data: new Float32Array(8 * D).map((_, i) => full.q.data[(Math.floor(i / D) * 600 + 599) * D + (i % D)]!), shape: [1, 8, 1, D] };
    const r = await two.attentionResident({ q, k: cache, v: cache, pattern: causal, returnLse: true });
    expect(two.lastRun()!.keySplits).toBeGreaterThan(1);
    expect(two.lastRun()!.headsPerTask).toBe(8);
    const out = await two.download(r.out);
    const lse = await two.download(r.lse!);
    r.out.release();
    r.lse!.release();
    cache.release();
    const host = await one.attention({ q, k: rows('k', 0, 600), v: rows('v', 0, 600), pattern: causal, returnLse: true, queryOffset: 599 });
    expect(resultMismatch({ out, lse }, host, FLOAT32_TOLERANCE)).toBeNull();
  });
});
