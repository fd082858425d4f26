import type { AttentionPlan, AttentionRequest, AttentionResult, HostTensor } from '@sparse/core';
import { rowOffset, shapeOf } from '@sparse/core/backend';

/**
 * Splitting a large call by (batch, kv-head group). The wasm memory holds a copy of everything a call reads and
 * writes; for a large request that copy doubles the process's footprint. Running it as consecutive sub-calls over
 * groups of kv heads (with their query heads) keeps the wasm arena to one group, so the peak stays close to the
 * caller's inputs + outputs. Results are identical: heads are independent.
 */

/** Above this many bytes of copied tensors, a call is split (when it has more than one (batch, kv head) unit). */
export const SPLIT_BYTES = 192 * 2 ** 20;

export interface HeadGroup {
  b: number;
  kv0: number;
  kv1: number;
}

/** Bytes a call copies into and out of wasm memory: q, out, k (and its transpose), v. */
export function copiedBytes(p: AttentionPlan, batch = p.batch, headsKv = p.headsKv): number {
  const headsQ = headsKv * p.group;
  return 4 * (batch * headsQ * p.seqQ * (p.headDim + p.headDimV) + batch * headsKv * p.seqK * (2 * p.headDim + p.headDimV));
}

export function headGroups(p: AttentionPlan, budget = SPLIT_BYTES): HeadGroup[] {
  const perKvHead = copiedBytes(p, 1, 1);
  const units = p.batch * p.headsKv;
  if (units === 1 || copiedBytes(p) <= budget) return [];
  const width = Math.max(1, Math.min(p.headsKv, Math.floor(budget / perKvHead)));
  const groups: HeadGroup[] = [];
  for (let b = 0; b < p.batch; b++) for (let kv0 = 0; kv0 < p.headsKv; kv0 += width) groups.push({ b, kv0, kv1: Math.min(p.headsKv, kv0 + width) });
  return groups;
}

/** Copies heads [h0, h1) of batch b of a [B, H, S, D]-in-layout tensor into a [1, h1 - h0, S, D]-in-layout tensor. */
function sliceHeads(t: HostTensor, p: AttentionPlan, heads: number, seq: number, dim: number, b: number, h0: number, h1: number): HostTensor {
  const n = h1 - h0;
  const data = new Float32Array(n * seq * dim);
  if (p.layout === 'bhsd') data.set(t.data.subarray(rowOffset('bhsd', heads, seq, dim, b, h0, 0), rowOffset('bhsd', heads, seq, dim, b, h1, 0)));
  else
    for (let s = 0; s < seq; s++)
      data.set(t.data.subarray(rowOffset('bshd', heads, seq, dim, b, h0, s), rowOffset('bshd', heads, seq, dim, b, h0, s) + n * dim), s * n * dim);
  return { data, shape: shapeOf(p.layout, 1, n, seq, dim) };
}

/** The sub-request of one group (its own q/k/v copies, its slice of per-head patterns). */
export function groupRequest(request: AttentionRequest, p: AttentionPlan, g: HeadGroup): AttentionRequest {
  const q0 = g.kv0 * p.group;
  const q1 = g.kv1 * p.group;
  return {
    ...request,
    q: sliceHeads(request.q, p, p.headsQ, p.seqQ, p.headDim, g.b, q0, q1),
    k: sliceHeads(request.k, p, p.headsKv, p.seqK, p.headDim, g.b, g.kv0, g.kv1),
    v: sliceHeads(request.v, p, p.headsKv, p.seqK, p.headDimV, g.b, g.kv0, g.kv1),
    pattern: Array.isArray(request.pattern) ? request.pattern.slice(q0, q1) : request.pattern,
    scale: p.scale,
    queryOffset: p.offset,
  };
}

/** Writes a group's result into the full result. */
export function scatterGroup(full: AttentionResult, part: AttentionResult, p: AttentionPlan, g: HeadGroup): void {
  const q0 = g.kv0 * p.group;
  const n = (g.kv1 - g.kv0) * p.group;
  const Dv = p.headDimV;
  if (p.layout === 'bhsd') full.out.data.set(part.out.data, rowOffset('bhsd', p.headsQ, p.seqQ, Dv, g.b, q0, 0));
  else
    for (let s = 0; s < p.seqQ; s++)
      full.out.data.set(part.out.data.subarray(s * n * Dv, (s + 1) * n * Dv), rowOffset('bshd', p.headsQ, p.seqQ, Dv, g.b, q0, s));
  if (full.lse && part.lse) full.lse.data.set(part.lse.data, (g.b * p.headsQ + q0) * p.seqQ);
}

export function emptyResult(p: AttentionPlan): AttentionResult {
  const result: AttentionResult = {
    out: { data: new Float32Array(p.batch * p.headsQ * p.seqQ * p.headDimV), shape: shapeOf(p.layout, p.batch, p.headsQ, p.seqQ, p.headDimV) },
  };
  if (p.returnLse) result.lse = { data: new Float32Array(p.batch * p.headsQ * p.seqQ), shape: [p.batch, p.headsQ, p.seqQ] };
  return result;
}
