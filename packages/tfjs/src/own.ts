import type { AttentionPlan, AttentionRequest, HostTensor } from '@sparse/core';

/**
 * What a call reads once attention() has returned: private copies of q, k and v, and the plan's snapshot of the
 * patterns. The caller may then overwrite, transfer or mutate its own arrays and pattern (docs/design.md).
 */
export function ownedRequest(request: AttentionRequest, plan: AttentionPlan): AttentionRequest {
  const copy = (x: HostTensor): HostTensor => ({ data: x.data.slice(), shape: [...x.shape] });
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
