import type { AttentionPlan, AttentionRequest, HostTensor } from '@sparse/core';

const copy = (t: HostTensor): HostTensor => ({ data: t.data.slice(), shape: Array.from(t.shape) });

/**
 * The request as a call keeps it while it waits for the memory: its own copies of q, k and v, and the plan's
 * private patterns. Taken before attention() returns, so the caller may then overwrite, reuse or transfer its
 * arrays and mutate its pattern objects without changing the result.
 */
export function snapshotRequest(request: AttentionRequest, plan: AttentionPlan): AttentionRequest {
  return {
    q: copy(request.q),
    k: copy(request.k),
    v: copy(request.v),
    pattern: plan.patterns,
    scale: plan.scale,
    queryOffset: plan.offset,
    layout: plan.layout,
    returnLse: plan.returnLse,
  };
}
