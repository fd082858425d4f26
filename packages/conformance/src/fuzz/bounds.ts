import type { AttentionPlan, AttentionRequest, AttentionResult, Pattern } from '@sparse/core';
import { rowOffset } from '@sparse/core/backend';
import { makePredicate, referenceAttention64 } from '@sparse/core/reference';

/** Tolerances of the fuzz comparison; `unitRoundoff` is the backend's working precision (float32: 2⁻²⁴). */
export interface FuzzTolerance {
  atol: number;
  rtol: number;
  lseAtol: number;
  unitRoundoff: number;
}

export const FLOAT32_FUZZ_TOLERANCE: FuzzTolerance = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5, unitRoundoff: 2 ** -24 };

const staticPart = (p: Pattern): Pattern => (p.kind === 'topk' || p.kind === 'cluster' ? (p.within ?? { kind: 'dense' }) : p);

/**
 * Compares a backend's result with the float64 reference, row by row. A row's error bound grows with the size of its
 * scores as float32 arithmetic does: a dot product of D terms is off by at most about D·u·Σ|q_d k_d|, and softmax
 * passes a score error δ to out as at most 2δ·max|v| and to lse as at most δ. NaN must appear exactly where the
 * reference has it (the non-finite rule). Returns the first mismatch in words, or undefined.
 */
export function compareWithReference(request: AttentionRequest, result: AttentionResult, tol: FuzzTolerance): string | undefined {
  const gold = referenceAttention64(request);
  const plan = gold.plan;
  const { batch, headsQ, headsKv, seqQ, seqK, headDim: D, headDimV: Dv, layout, scale } = plan;
  if (result.out.data.length !== gold.out.length) return `out has ${result.out.data.length} values, expected ${gold.out.length}`;
  if (!result.lse || result.lse.data.length !== gold.lse.length) return `lse missing or of length ${result.lse?.data.length}`;
  const predicates = new Map<Pattern, (i: number, j: number) => boolean>();
  for (let h = 0; h < headsQ; h++) {
    const p = plan.patterns[h]!;
    if (!predicates.has(p)) predicates.set(p, makePredicate(staticPart(p), plan as AttentionPlan));
  }
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < headsQ; h++) {
      const allowed = predicates.get(plan.patterns[h]!)!;
      const hk = Math.floor(h / plan.group);
      for (let i = 0; i < seqQ; i++) {
        const r = (b * headsQ + h) * seqQ + i;
        const at = rowOffset(layout, headsQ, seqQ, Dv, b, h, i);
        const where = `row (b=${b}, h=${h}, i=${i})`;
        const goldLse = gold.lse[r]!;
        const gotLse = result.lse.data[r]!;
        if (Number.isNaN(goldLse)) {
          for (let d = 0; d < Dv; d++) if (!Number.isNaN(result.out.data[at + d]!)) return `${where}: out[${d}] = ${result.out.data[at + d]}, expected NaN`;
          if (!Number.isNaN(gotLse)) return `${where}: lse = ${gotLse}, expected NaN`;
          continue;
        }
        // The row's score magnitude and value size over the keys it may attend.
        let magnitude = 0;
        let vmax = 0;
        const qa = rowOffset(layout, headsQ, seqQ, D, b, h, i);
        for (let j = 0; j < seqK; j++) {
          if (!allowed(i, j)) continue;
          const ka = rowOffset(layout, headsKv, seqK, D, b, hk, j);
          let sum = 0;
          for (let d = 0; d < D; d++) sum += Math.abs(request.q.data[qa + d]! * request.k.data[ka + d]!);
          // Non-finite values here belong to keys the row does not keep (else the gold row would be NaN).
          if (Number.isFinite(sum)) magnitude = Math.max(magnitude, sum * Math.abs(scale));
          const va = rowOffset(layout, headsKv, seqK, Dv, b, hk, j);
          for (let d = 0; d < Dv; d++) if (Number.isFinite(request.v.data[va + d]!)) vmax = Math.max(vmax, Math.abs(request.v.data[va + d]!));
        }
        const scoreErr = 4 * (D + 2) * tol.unitRoundoff * magnitude;
        if (goldLse === Number.NEGATIVE_INFINITY) {
          if (gotLse !== goldLse) return `${where}: lse = ${gotLse}, expected -Infinity (no allowed key)`;
        } else if (!(Math.abs(gotLse - goldLse) <= tol.lseAtol + 2 ** -22 * Math.abs(goldLse) + 2 * scoreErr)) {
          return `${where}: lse = ${gotLse}, expected ${goldLse}`;
        }
        for (let d = 0; d < Dv; d++) {
          const g = gold.out[at + d]!;
          const x = result.out.data[at + d]!;
          if (!(Math.abs(x - g) <= tol.atol + tol.rtol * Math.abs(g) + 2 * scoreErr * vmax)) return `${where}: out[${d}] = ${x}, expected ${g}`;
        }
      }
    }
  return undefined;
}
