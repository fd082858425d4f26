// The non-finite rule of docs/design.md through cudaNative() over the addon model, clause by clause, on the
// CUDA-core kernel (float32) and every tensor-core tier (bf16/f16, max(D, Dv) ≤ 64 / 128 / 256): only the rows
// the rule names change, the others are bit-for-bit what they are without the bad value.

import { makeRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { referenceAttention64 } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import type { Precision } from '../src/options.js';
import { modelBackend } from './model-backend.js';
import { roundTo } from './rounding.js';

const S = 40;
const DTYPE: Record<Precision, number> = { float32: 0, bfloat16: 1, float16: 2 };

const KERNELS: [string, Precision, number][] = [
  ['CUDA-core, float32', 'float32', 8],
  ['tensor-core 64, bf16', 'bfloat16', 8],
  ['tensor-core 64, f16', 'float16', 8],
  ['tensor-core 128, bf16', 'bfloat16', 72],
  ['tensor-core 256, f16', 'float16', 136],
];

describe.each(KERNELS)('non-finite values over the addon model, %s', (_name, precision, D) => {
  const base = (pattern: Pattern, scale?: number) => {
    const req = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: S, Sk: S, D, Dv: D }, pattern);
    return scale === undefined ? req : { ...req, scale };
  };
  const withData = (req: AttentionRequest, which: 'q' | 'k' | 'v', row: number, value: number, cols = [0]) => {
    const data = Float32Array.from(req[which].data);
    for (const c of cols) data[row * D + c] = value;
    return { ...req, [which]: { data, shape: req[which].shape } };
  };

  async function rows(req: AttentionRequest) {
    const backend = modelBackend({ precision });
    const r = await backend.attention(req);
    await backend.dispose();
    return Array.from({ length: S }, (_, i) => ({ out: Array.from(r.out.data.subarray(i * D, (i + 1) * D)), lse: r.lse!.data[i]! }));
  }

  /** Rows in `nan` are NaN in every out entry and lse; every other row equals the clean run bit for bit. */
  async function expectRows(clean: AttentionRequest, bad: AttentionRequest, nan: (i: number) => boolean) {
    const [a, b] = [await rows(clean), await rows(bad)];
    for (let i = 0; i < S; i++) {
      if (nan(i)) {
        expect(b[i]!.out.every(Number.isNaN) && Number.isNaN(b[i]!.lse), `row ${i} must be NaN`).toBe(true);
      } else {
        expect(b[i], `row ${i} must not change`).toEqual(a[i]);
      }
    }
  }

  it('a masked key never influences a row, whatever its k and v (NaN, Inf)', async () => {
    const clean = base({ kind: 'causal' });
    let bad = withData(clean, 'k', 30, Number.NaN);
    bad = withData(bad, 'v', 30, Number.POSITIVE_INFINITY, [0, 3]);
    await expectRows(clean, bad, (i) => i >= 30);
  });

  it('a NaN in v of a key masked by local(2, 2) leaves every row outside its window as it was', async () => {
    // Every row shares one key tile with key 20, so its zero weights meet that v inside the same P·V product.
    const clean = base({ kind: 'local', left: 2, right: 2 });
    await expectRows(clean, withData(clean, 'v', 20, Number.NaN, [1]), (i) => i >= 18 && i <= 22);
  });

  it('a non-finite score among the attended keys makes the row NaN', async () => {
    const clean = base({ kind: 'local', left: 3, right: 3 });
    await expectRows(clean, withData(clean, 'q', 12, Number.POSITIVE_INFINITY), (i) => i === 12);
    await expectRows(clean, withData(clean, 'q', 12, Number.NaN), (i) => i === 12);
    await expectRows(clean, withData(clean, 'k', 20, Number.NaN), (i) => i >= 17 && i <= 23);
  });

  it('a non-finite v of an attended key makes the row NaN', async () => {
    const clean = base({ kind: 'local', left: 2, right: 0 });
    await expectRows(clean, withData(clean, 'v', 10, Number.NEGATIVE_INFINITY, [5]), (i) => i >= 10 && i <= 12);
  });

  it('a score that overflows float32 from finite inputs makes the row NaN', async () => {
    // Each row attends only its own key: row 5's score is 2^100·4·(2^15)² = 2^132, beyond float32; every
    // storage type holds 2^15 exactly.
    const clean = base({ kind: 'local', left: 0, right: 0 }, 2 ** 100);
    const bad = withData(withData(clean, 'q', 5, 2 ** 15, [0, 1, 2, 3]), 'k', 5, 2 ** 15, [0, 1, 2, 3]);
    await expectRows(clean, bad, (i) => i === 5);
  });

  it('finite scores near the float32 bound (±2.5e38 to ±3e38) match the float64 reference', async () => {
    // scale 2^97: row 5's own key scores 1.75·2^127 ≈ 2.98e38; row 30 (q = -2^15 e0) scores -1.5·2^127 on
    // keys 28, 29, 31, 32 and -1.75·2^127 on its own. Other rows score up to about 2^112. s·log2e alone would
    // overflow float32 from 2.36e38.
    let req = base({ kind: 'local', left: 2, right: 2 }, 2 ** 97);
    req = withData(withData(req, 'q', 5, 2 ** 15), 'k', 5, 1.75 * 2 ** 15);
    const columns = Array.from({ length: D }, (_, c) => c);
    req = withData(req, 'q', 30, 0, columns);
    req = withData(req, 'q', 30, -(2 ** 15));
    for (const j of [28, 29, 31, 32]) req = withData(req, 'k', j, 1.5 * 2 ** 15);
    req = withData(req, 'k', 30, 1.75 * 2 ** 15);
    const got = await rows(req);
    const round = (x: AttentionRequest['q']) => ({ data: roundTo(DTYPE[precision], x.data), shape: x.shape });
    const ref = referenceAttention64({ ...req, q: round(req.q), k: round(req.k), v: round(req.v) });
    expect(got[5]!.lse).toBeCloseTo(1.75 * 2 ** 127, -32);
    expect(got[30]!.lse).toBeCloseTo(-1.5 * 2 ** 127, -32);
    for (let i = 0; i < S; i++) {
      const want = ref.lse[i]!;
      expect(Math.abs(got[i]!.lse - want), `row ${i} lse`).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-5);
      for (let d = 0; d < D; d++) expect(got[i]!.out[d]!, `row ${i} out[${d}]`).toBeCloseTo(ref.out[i * D + d]!, 6);
    }
  });

  it('a row with no allowed key gives out 0 and lse -Infinity', async () => {
    const r = await rows(base({ kind: 'documents', offsets: [0, 10, 30] }));
    for (let i = 30; i < S; i++) expect(r[i]).toEqual({ out: new Array(D).fill(0), lse: Number.NEGATIVE_INFINITY });
  });
});

describe('non-finite values and top-k over the addon model', () => {
  it('a NaN score of any candidate of within makes the row NaN, even when that key would not be kept', async () => {
    const D = 8;
    const req = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: S, Sk: S, D, Dv: D }, { kind: 'topk', k: 2, within: { kind: 'local', left: 4, right: 4 } });
    const k = Float32Array.from(req.k.data);
    k[20 * D] = Number.NaN;
    const backend = modelBackend({ precision: 'float32' });
    const [clean, bad] = [await backend.attention(req), await backend.attention({ ...req, k: { data: k, shape: req.k.shape } })];
    await backend.dispose();
    for (let i = 0; i < S; i++) {
      const row = (r: typeof clean) => [...Array.from(r.out.data.subarray(i * D, (i + 1) * D)), r.lse!.data[i]!];
      if (i >= 16 && i <= 24) expect(row(bad).every(Number.isNaN), `row ${i} must be NaN`).toBe(true);
      else expect(row(bad), `row ${i} must not change`).toEqual(row(clean));
    }
  });
});
