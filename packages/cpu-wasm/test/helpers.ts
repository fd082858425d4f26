import {
  type AttentionRequest,
  type AttentionResult,
  type HostTensor,
  isSparseAttentionError,
  type Layout,
  type Pattern,
  type SparseAttentionError,
} from '@sparse/core';
import { mulberry32, referenceAttention64 } from '@sparse/core/reference';
import { expect } from 'vitest';

/** Seeded float32 tensor with values in [-1, 1), or small integers (-2 … 2) for exact scores, ties and margins. */
export function randomTensor(shape: number[], seed: number, integers = false): HostTensor {
  const next = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let n = 0; n < size; n++) data[n] = integers ? (next() % 5) - 2 : next() / 2 ** 31 - 1;
  return { data, shape };
}

export interface Shape {
  B?: number;
  Hq?: number;
  Hkv?: number;
  Sq: number;
  Sk?: number;
  D?: number;
  Dv?: number;
  layout?: Layout;
  seed?: number;
  integers?: boolean;
}

export function request(s: Shape, pattern: Pattern | Pattern[], extra: Partial<AttentionRequest> = {}): AttentionRequest {
  const B = s.B ?? 1;
  const Hq = s.Hq ?? 1;
  const Hkv = s.Hkv ?? Hq;
  const Sk = s.Sk ?? s.Sq;
  const D = s.D ?? 8;
  const Dv = s.Dv ?? D;
  const seed = s.seed ?? 1;
  const shape = (h: number, n: number, d: number) => (s.layout === 'bshd' ? [B, n, h, d] : [B, h, n, d]);
  return {
    q: randomTensor(shape(Hq, s.Sq, D), seed, s.integers),
    k: randomTensor(shape(Hkv, Sk, D), seed + 1, s.integers),
    v: randomTensor(shape(Hkv, Sk, Dv), seed + 2, s.integers),
    pattern,
    returnLse: true,
    ...(s.layout ? { layout: s.layout } : {}),
    ...extra,
  };
}

/** out within 1e-5 + 1e-4·|gold| of core's float64 reference, lse within 1e-5 (-Infinity exactly), no NaN. */
export function expectMatchesReference(req: AttentionRequest, got: AttentionResult, label = ''): void {
  const gold = referenceAttention64(req);
  expect(got.out.shape).toEqual(Array.from(req.q.shape.slice(0, 3)).concat([req.v.shape[3]!]));
  expect(got.out.data.length).toBe(gold.out.length);
  let worst = 0;
  let at = -1;
  for (let n = 0; n < gold.out.length; n++) {
    const a = got.out.data[n]!;
    const b = gold.out[n]!;
    const excess = Number.isNaN(a) ? Infinity : Math.abs(a - b) - (1e-5 + 1e-4 * Math.abs(b));
    if (excess > worst) {
      worst = excess;
      at = n;
    }
  }
  expect(worst, `${label} out[${at}] = ${got.out.data[at]} vs ${gold.out[at]}`).toBeLessThanOrEqual(0);
  if (req.returnLse) {
    expect(got.lse, `${label} lse`).toBeDefined();
    const lse = got.lse!.data;
    for (let n = 0; n < gold.lse.length; n++) {
      const a = lse[n]!;
      const b = gold.lse[n]!;
      if (b === Number.NEGATIVE_INFINITY) expect(a, `${label} lse[${n}]`).toBe(Number.NEGATIVE_INFINITY);
      else expect(Math.abs(a - b), `${label} lse[${n}] = ${a} vs ${b}`).toBeLessThanOrEqual(1e-5 + 1e-6 * Math.abs(b));
    }
  }
}

/** The typed error a promise rejects with (fails the test when it resolves or rejects untyped). */
export async function rejection(p: Promise<unknown>): Promise<SparseAttentionError> {
  try {
    await p;
  } catch (e) {
    expect(isSparseAttentionError(e), String(e)).toBe(true);
    return e as SparseAttentionError;
  }
  throw new Error('expected a rejection');
}
