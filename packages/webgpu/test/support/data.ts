import type { AttentionRequest, AttentionResult, Layout, Pattern } from '@sparse/core';
import { shapeOf } from '@sparse/core/backend';
import { mulberry32, referenceAttention64 } from '@sparse/core/reference';

export interface CaseShape {
  B?: number;
  Hq?: number;
  Hkv?: number;
  Sq: number;
  Sk?: number;
  D: number;
  Dv?: number;
  layout?: Layout;
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((next() / 2 ** 32) * 2 - 1) * scale;
  return a;
}

/** A request with uniform random q, k, v in [-1, 1). */
export function makeRequest(s: CaseShape, pattern: Pattern | Pattern[], extra: Partial<AttentionRequest> = {}, seed = 1): AttentionRequest {
  const B = s.B ?? 1;
  const Hq = s.Hq ?? 1;
  const Hkv = s.Hkv ?? Hq;
  const Sk = s.Sk ?? s.Sq;
  const Dv = s.Dv ?? s.D;
  const layout = s.layout ?? 'bhsd';
  const t = (H: number, S: number, D: number, n: number) => ({ data: randomArray(B * H * S * D, seed * 7 + n), shape: shapeOf(layout, B, H, S, D) });
  return { q: t(Hq, s.Sq, s.D, 1), k: t(Hkv, Sk, s.D, 2), v: t(Hkv, Sk, Dv, 3), pattern, layout, returnLse: true, ...extra };
}

export interface Tolerance {
  atol: number;
  rtol: number;
  lseAtol: number;
}

export const FLOAT32: Tolerance = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 };

/**
 * Compares against core's float64 reference (the float32 tolerance of docs/design.md); returns a description of the first mismatch. Where
 * the reference is NaN (the non-finite rule), the result must be NaN too.
 */
export function mismatch(request: AttentionRequest, got: AttentionResult, tol: Tolerance = FLOAT32): string | null {
  const ref = referenceAttention64(request);
  const out = got.out.data;
  if (out.length !== ref.out.length) return `out has ${out.length} values, expected ${ref.out.length}`;
  for (let n = 0; n < out.length; n++) {
    const g = out[n]!;
    const e = ref.out[n]!;
    if (Number.isNaN(e) ? !Number.isNaN(g) : !(Math.abs(g - e) <= tol.atol + tol.rtol * Math.abs(e))) return `out[${n}] = ${g}, expected ${e}`;
  }
  if (request.returnLse) {
    const lse = got.lse?.data;
    if (!lse || lse.length !== ref.lse.length) return `lse missing or of the wrong length`;
    for (let n = 0; n < lse.length; n++) {
      const g = lse[n]!;
      const e = ref.lse[n]!;
      const bad = Number.isNaN(e) ? !Number.isNaN(g) : e === -Infinity ? g !== -Infinity : !(Math.abs(g - e) <= tol.lseAtol);
      if (bad) return `lse[${n}] = ${g}, expected ${e}`;
    }
  }
  return null;
}
