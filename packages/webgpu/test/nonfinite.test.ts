import { cloneRequest, closeMismatch, FLOAT32_TOLERANCE, makeRequest, referenceMismatch } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult, Pattern } from '@sparse/core';
import { referenceAttention64 } from '@sparse/core/reference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, webgpu } from '../src/index.js';
import { download, upload } from './support/buffers.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

const local = (left: number, right: number): Pattern => ({ kind: 'local', left, right });

/** Sets element d of row s (bhsd, B = H = 1) of a tensor; d = -1 sets the whole row. */
function poke(t: AttentionRequest['q'], s: number, d: number, value: number): void {
  const D = t.shape[3]!;
  if (d >= 0) t.data[s * D + d] = value;
  else t.data.fill(value, s * D, (s + 1) * D);
}

/** Rows whose out or lse holds a NaN (B = H = 1). */
function nanRows(r: AttentionResult): number[] {
  const Dv = r.out.shape[3]!;
  const rows: number[] = [];
  for (let i = 0; i < r.lse!.data.length; i++) {
    const out = r.out.data.subarray(i * Dv, (i + 1) * Dv);
    const allNan = out.every(Number.isNaN) && Number.isNaN(r.lse!.data[i]!);
    const anyNan = out.some(Number.isNaN) || Number.isNaN(r.lse!.data[i]!);
    if (anyNan) rows.push(allNan ? i : -1 - i);
  }
  return rows;
}

/** Rows (other than `except`) whose out or lse bits differ between two results. */
function changedRows(a: AttentionResult, b: AttentionResult, except: (i: number) => boolean): number[] {
  const Dv = a.out.shape[3]!;
  const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
  const [oa, ob, la, lb] = [bits(a.out.data), bits(b.out.data), bits(a.lse!.data), bits(b.lse!.data)];
  const rows: number[] = [];
  for (let i = 0; i < la.length; i++) {
    if (except(i)) continue;
    let same = la[i] === lb[i];
    for (let d = 0; d < Dv; d++) same &&= oa[i * Dv + d] === ob[i * Dv + d];
    if (!same) rows.push(i);
  }
  return rows;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, n) => a + n);

describe.skipIf(!gpu.available)('the non-finite rule', () => {
  let backend: WebGpuBackend;
  beforeAll(() => {
    backend = webgpu(TEST_OPTIONS);
  });
  afterAll(async () => {
    await backend.dispose();
  });

  /** Runs the clean request and a tampered copy; returns both results. */
  async function both(clean: AttentionRequest, tamper: (r: AttentionRequest) => void) {
    const bad = cloneRequest(clean);
    tamper(bad);
    return { clean: await backend.attention(clean), bad: await backend.attention(bad), request: bad };
  }

  it('ignores NaN and Inf in k and v of keys outside the pattern (documents padding)', async () => {
    const clean = makeRequest({ Sq: 40, D: 8 }, { kind: 'documents', offsets: [0, 6, 14, 30] });
    const { clean: a, bad: b } = await both(clean, (r) => {
      poke(r.k, 31, 2, Number.NaN);
      poke(r.k, 33, -1, Number.POSITIVE_INFINITY);
      poke(r.v, 35, 0, Number.NaN);
      poke(r.v, 39, -1, Number.NEGATIVE_INFINITY);
    });
    expect(nanRows(b)).toEqual([]);
    expect(changedRows(a, b, () => false)).toEqual([]);
    expect(b.lse!.data[35]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('makes exactly the rows that attend a NaN key NaN (local(2, 2), 512 tokens, NaN at key 3)', async () => {
    const clean = makeRequest({ Sq: 512, D: 8 }, local(2, 2));
    const { clean: a, bad: b } = await both(clean, (r) => poke(r.k, 3, 5, Number.NaN));
    expect(nanRows(b)).toEqual(range(1, 5));
    expect(changedRows(a, b, (i) => i >= 1 && i <= 5)).toEqual([]);
  });

  it('makes the rows that attend a key with Inf in v NaN, out and lse', async () => {
    const clean = makeRequest({ Sq: 64, D: 8, Dv: 12 }, local(2, 2));
    const { clean: a, bad: b } = await both(clean, (r) => poke(r.v, 7, 11, Number.POSITIVE_INFINITY));
    expect(nanRows(b)).toEqual(range(5, 9));
    expect(changedRows(a, b, (i) => i >= 5 && i <= 9)).toEqual([]);
  });

  it('makes a row with NaN in q NaN and leaves the other rows bit for bit', async () => {
    const clean = makeRequest({ Sq: 48, D: 8 }, { kind: 'causal' });
    const { clean: a, bad: b } = await both(clean, (r) => poke(r.q, 10, 0, Number.NaN));
    expect(nanRows(b)).toEqual([10]);
    expect(changedRows(a, b, (i) => i === 10)).toEqual([]);
  });

  it('makes a row whose score overflows float32 from finite inputs NaN', async () => {
    const clean = makeRequest({ Sq: 40, D: 8 }, local(2, 2));
    const {
      clean: a,
      bad: b,
      request,
    } = await both(clean, (r) => {
      poke(r.q, 20, -1, 1e30);
      poke(r.k, 20, -1, 1e30);
    });
    expect(nanRows(b)).toEqual([20]);
    // Rows 18..22 read key 20 (finite scores ~1e30 there); the others are untouched.
    expect(changedRows(a, b, (i) => i >= 18 && i <= 22)).toEqual([]);
    // lse ≈ 1e28 in rows 18..22: held to 1e-5 + 1e-4·|gold| (float32's out tolerance), not the contract's 2⁻²² term.
    expect(referenceMismatch({ ...request, returnLse: false }, b)).toBeNull();
    const lseTol = { ...FLOAT32_TOLERANCE, atol: FLOAT32_TOLERANCE.lseAtol };
    expect(closeMismatch(b.lse!.data, referenceAttention64(request).lse, lseTol, 'lse')).toBeNull();
  });

  it('top-k: a NaN score of any candidate of `within` makes the row NaN, even when it is not kept', async () => {
    const clean = makeRequest({ Sq: 70, D: 8 }, { kind: 'topk', k: 1, within: local(2, 2) });
    const {
      clean: a,
      bad: b,
      request,
    } = await both(clean, (r) => {
      poke(r.k, 3, 0, Number.NaN);
      poke(r.k, 40, 0, Number.NaN);
    });
    expect(nanRows(b)).toEqual([...range(1, 5), ...range(38, 42)]);
    expect(changedRows(a, b, (i) => (i >= 1 && i <= 5) || (i >= 38 && i <= 42))).toEqual([]);
    expect(referenceMismatch(request, b)).toBeNull();
  });

  it('top-k: Inf in v makes NaN only the rows that keep that key', async () => {
    const request = makeRequest({ Sq: 50, D: 8 }, { kind: 'topk', k: 2, within: local(3, 3) });
    poke(request.v, 25, -1, Number.POSITIVE_INFINITY);
    expect(referenceMismatch(request, await backend.attention(request))).toBeNull();
  });

  it('cluster: a NaN centroid product never wins the label; rows attending a non-finite key are NaN', async () => {
    const request = makeRequest(
      { Sq: 60, D: 4 },
      {
        kind: 'cluster',
        centroids: [
          [0, 1, 0, 0],
          [1, 0, 0, 0],
        ],
        within: local(6, 6),
      },
    );
    // Key 30 = [Inf, 0, 0, 0]: its product with centroid 0 is NaN, with centroid 1 is Inf, so its label is 1.
    poke(request.k, 30, -1, 0);
    poke(request.k, 30, 0, Number.POSITIVE_INFINITY);
    const got = await backend.attention(request);
    expect(nanRows(got).length).toBeGreaterThan(0);
    expect(referenceMismatch(request, got)).toBeNull();
  });

  it('applies the rule on the GPUBuffer path too', async () => {
    const request = makeRequest({ Sq: 64, D: 8 }, local(2, 2), { returnLse: true });
    poke(request.k, 3, 5, Number.NaN);
    poke(request.v, 40, 1, Number.NEGATIVE_INFINITY);
    const device = await backend.device();
    const t = (x: AttentionRequest['q']) => ({ buffer: upload(device, x.data), shape: x.shape });
    const res = await backend.attentionResident({ q: t(request.q), k: t(request.k), v: t(request.v), pattern: request.pattern, returnLse: true });
    const got: AttentionResult = {
      out: { data: await download(device, res.out.buffer, 64 * 8), shape: res.out.shape },
      lse: { data: await download(device, res.lse!.buffer, 64), shape: [1, 1, 64] },
    };
    expect(nanRows(got)).toEqual([...range(1, 5), ...range(38, 42)]);
  });
});
