// The non-finite rule of docs/design.md through cudaNative() over the addon model, clause by clause, in float32
// (CUDA-core kernel) and bf16 (tensor-core kernel): only the rows the rule names change, the others are
// bit-for-bit what they are without the bad value.
import type { AttentionRequest, Pattern } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import type { Precision } from '../src/options.js';
import { makeRequest } from './cases.js';
import { modelBackend } from './model-backend.js';

const S = 40;
const D = 8;
const base = (pattern: Pattern) => makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: S, Sk: S, D, Dv: D }, pattern);
const withData = (req: AttentionRequest, which: 'q' | 'k' | 'v', row: number, value: number, cols = [0]) => {
  const data = Float32Array.from(req[which].data);
  for (const c of cols) data[row * D + c] = value;
  return { ...req, [which]: { data, shape: req[which].shape } };
};

async function rows(precision: Precision, req: AttentionRequest) {
  const backend = modelBackend({ precision });
  const r = await backend.attention(req);
  await backend.dispose();
  return Array.from({ length: S }, (_, i) => ({ out: Array.from(r.out.data.subarray(i * D, (i + 1) * D)), lse: r.lse!.data[i]! }));
}

/** Rows in `nan` are NaN in every out entry and lse; every other row equals the clean run bit for bit. */
async function expectRows(precision: Precision, clean: AttentionRequest, bad: AttentionRequest, nan: (i: number) => boolean) {
  const [a, b] = [await rows(precision, clean), await rows(precision, bad)];
  for (let i = 0; i < S; i++) {
    if (nan(i)) {
      expect(b[i]!.out.every(Number.isNaN) && Number.isNaN(b[i]!.lse), `row ${i} must be NaN`).toBe(true);
    } else {
      expect(b[i], `row ${i} must not change`).toEqual(a[i]);
    }
  }
}

describe.each(['float32', 'bfloat16'] as Precision[])('non-finite values over the addon model, %s', (precision) => {
  it('a masked key never influences a row, whatever its k and v (NaN, Inf)', async () => {
    const clean = base({ kind: 'causal' });
    let bad = withData(clean, 'k', 30, Number.NaN);
    bad = withData(bad, 'v', 30, Number.POSITIVE_INFINITY, [0, 3]);
    await expectRows(precision, clean, bad, (i) => i >= 30);
  });

  it('a non-finite score among the attended keys makes the row NaN', async () => {
    const clean = base({ kind: 'local', left: 3, right: 3 });
    await expectRows(precision, clean, withData(clean, 'q', 12, Number.POSITIVE_INFINITY), (i) => i === 12);
    await expectRows(precision, clean, withData(clean, 'k', 20, Number.NaN), (i) => i >= 17 && i <= 23);
  });

  it('a non-finite v of an attended key makes the row NaN', async () => {
    const clean = base({ kind: 'local', left: 2, right: 0 });
    await expectRows(precision, clean, withData(clean, 'v', 10, Number.NEGATIVE_INFINITY, [5]), (i) => i >= 10 && i <= 12);
  });

  it('a score that overflows float32 from finite inputs makes the row NaN', async () => {
    // Each row attends only its own key: row 5's score is scale·4·(3e19)² ≈ 1.3e39, beyond float32 (bf16 holds 3e19).
    const clean = base({ kind: 'local', left: 0, right: 0 });
    const bad = withData(withData(clean, 'q', 5, 3e19, [0, 1, 2, 3]), 'k', 5, 3e19, [0, 1, 2, 3]);
    await expectRows(precision, clean, bad, (i) => i === 5);
  });

  it('a row with no allowed key gives out 0 and lse -Infinity', async () => {
    const r = await rows(precision, base({ kind: 'documents', offsets: [0, 10, 30] }));
    for (let i = 30; i < S; i++) expect(r[i]).toEqual({ out: new Array(D).fill(0), lse: Number.NEGATIVE_INFINITY });
  });
});

describe('non-finite values and top-k over the addon model', () => {
  it('a NaN score of any candidate of within makes the row NaN, even when that key would not be kept', async () => {
    const clean = base({ kind: 'topk', k: 2, within: { kind: 'local', left: 4, right: 4 } });
    await expectRows('float32', clean, withData(clean, 'k', 20, Number.NaN), (i) => i >= 16 && i <= 24);
  });
});
