import { type AttentionRequest, FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';
import type { Precision } from './options.js';

/** Unit roundoff of each storage type (half the spacing of its values at 1): float32 2^-24, bf16 2^-8, f16 2^-11. */
export const UNIT_ROUNDOFF: Record<Precision, number> = { float32: 2 ** -24, bfloat16: 2 ** -8, float16: 2 ** -11 };

/** The magnitudes a tolerance without a request assumes: inputs of magnitude about 1 (|v| ≤ 1, |scores| ≤ 4). */
export const NOMINAL_MAGNITUDES: Readonly<{ maxV: number; maxScore: number }> = Object.freeze({ maxV: 1, maxScore: 4 });

/**
 * The magnitudes the storage rounding error scales with: max |v| and a bound on every |score|, over the finite
 * values (a non-finite value makes the rows that attend it NaN, which no tolerance is about).
 */
export function requestMagnitudes(request: AttentionRequest): { maxV: number; maxScore: number } {
  const D = request.q.shape[3]!;
  const scale = request.scale ?? 1 / Math.sqrt(D);
  const maxNorm = (data: Float32Array) => {
    let best = 0;
    for (let at = 0; at < data.length; at += D) {
      let ss = 0;
      for (let d = 0; d < D; d++) if (Number.isFinite(data[at + d]!)) ss += data[at + d]! * data[at + d]!;
      best = Math.max(best, ss);
    }
    return Math.sqrt(best);
  };
  let maxV = 0;
  for (const x of request.v.data) if (Number.isFinite(x)) maxV = Math.max(maxV, Math.abs(x));
  return { maxV, maxScore: Math.abs(scale) * maxNorm(request.q.data) * maxNorm(request.k.data) };
}

/**
 * The tolerance of a request at a storage precision, derived from the storage type's unit roundoff u and the
 * request's magnitudes (NOMINAL_MAGNITUDES without a request; the README's "Precision" section has the derivation):
 *   Δ = (2u + u²)·S bounds the change of any score when q and k are rounded, S = |scale|·max‖q_i‖·max‖k_j‖;
 *   out: atol = float32 atol + maxV·(2u + 2·tanh(Δ/2)) — v rounded (u·maxV), P rounded before P·V on tensor
 *   cores (u·maxV), the softmax weights moved by scores that moved by at most Δ (2·maxV·tanh(Δ/2));
 *   lse: lseAtol = float32 lseAtol + Δ (log-sum-exp moves by at most the largest score change).
 * float32 storage is exact in storage and gets the project's float32 tolerance.
 */
export function toleranceFor(precision: Precision, request?: AttentionRequest): Tolerance {
  if (precision === 'float32') return { ...FLOAT32_TOLERANCE };
  const u = UNIT_ROUNDOFF[precision];
  const { maxV, maxScore } = request ? requestMagnitudes(request) : NOMINAL_MAGNITUDES;
  const delta = (2 * u + u * u) * maxScore;
  return {
    atol: FLOAT32_TOLERANCE.atol + maxV * (2 * u + 2 * Math.tanh(delta / 2)),
    rtol: FLOAT32_TOLERANCE.rtol,
    lseAtol: FLOAT32_TOLERANCE.lseAtol + delta,
  };
}

/**
 * The tolerance of each storage precision for inputs of magnitude about 1 (NOMINAL_MAGNITUDES): what
 * `tolerance()` answers without a request. A request's own is toleranceFor(precision, request).
 */
export const TOLERANCES: Readonly<Record<Precision, Readonly<Tolerance>>> = Object.freeze({
  float32: Object.freeze(toleranceFor('float32')),
  bfloat16: Object.freeze(toleranceFor('bfloat16')),
  float16: Object.freeze(toleranceFor('float16')),
});
