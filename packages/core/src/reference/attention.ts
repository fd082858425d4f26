import { SparseAttentionError } from '../errors.js';
import { type AttentionPlan, type AttentionRequest, type AttentionResult, planAttention } from '../request.js';
import { rowOffset, shapeOf } from '../tensor.js';
import { ReferenceRows } from './rows.js';

/** Float64 results: out in the request's layout, lse as [B, Hq, Sq]. */
export interface Attention64 {
  plan: AttentionPlan;
  out: Float64Array;
  lse: Float64Array;
}

/** The reference attention over every row, from the element predicate, in float64. */
export function referenceAttention64(request: AttentionRequest): Attention64 {
  const plan = planAttention(request);
  const rows = new ReferenceRows(plan, request);
  const { batch, headsQ, seqQ, headDimV: Dv, layout } = plan;
  const out = new Float64Array(batch * headsQ * seqQ * Dv);
  const lse = new Float64Array(batch * headsQ * seqQ);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < headsQ; h++)
      for (let i = 0; i < seqQ; i++) lse[(b * headsQ + h) * seqQ + i] = rows.row(b, h, i, out, rowOffset(layout, headsQ, seqQ, Dv, b, h, i));
  return { plan, out, lse };
}

/** The reference attention rounded to float32 host tensors. */
export function referenceAttention(request: AttentionRequest): AttentionResult {
  return toResult(referenceAttention64(request));
}

export interface RowSample {
  b: number;
  h: number;
  i: number;
}

/** Reference values for a few rows only (spot checks of large runs): out [Dv] and lse per row. */
export function referenceRows(request: AttentionRequest, samples: readonly RowSample[]): { out: Float64Array; lse: number }[] {
  const plan = planAttention(request);
  const rows = new ReferenceRows(plan, request);
  return samples.map(({ b, h, i }) => {
    if (!(b >= 0 && b < plan.batch && h >= 0 && h < plan.headsQ && i >= 0 && i < plan.seqQ)) {
      throw new SparseAttentionError('INVALID_ARGUMENT', `samples: row (b=${b}, h=${h}, i=${i}) is outside the request`, { field: 'samples' });
    }
    const out = new Float64Array(plan.headDimV);
    const lse = rows.row(b, h, i, out, 0);
    return { out, lse };
  });
}

export function toResult(r: Attention64): AttentionResult {
  const { plan } = r;
  const result: AttentionResult = {
    out: { data: Float32Array.from(r.out), shape: shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) },
  };
  if (plan.returnLse) result.lse = { data: Float32Array.from(r.lse), shape: [plan.batch, plan.headsQ, plan.seqQ] };
  return result;
}
