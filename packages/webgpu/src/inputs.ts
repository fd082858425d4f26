import { type AttentionPlan, type AttentionRequest, SparseAttentionError } from '@sparse/core';

const TENSORS = ['q', 'k', 'v'] as const;

/**
 * A detached array (its buffer transferred) reads as length 0; refuse it by name rather than upload nothing.
 * Shapes are at least 1 in every axis, so no valid tensor is empty.
 */
export function checkAttached(request: AttentionRequest): void {
  if (typeof request !== 'object' || request === null) return;
  for (const name of TENSORS) {
    const data = (request[name] as { data?: unknown } | undefined)?.data;
    if (data instanceof Float32Array && data.length === 0)
      throw new SparseAttentionError('INVALID_ARGUMENT', `${name}.data: has no elements (its buffer was detached or transferred)`, {
        field: `${name}.data`,
      });
  }
}

/** The plan with its own deep copy of the patterns, so mutating the caller's pattern objects changes nothing. */
export function withPrivatePatterns(plan: AttentionPlan): AttentionPlan {
  return { ...plan, patterns: structuredClone(plan.patterns) };
}

export function isShared(data: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/** The request with private copies of q, k and v (on ordinary ArrayBuffers). */
export function withCopiedData(request: AttentionRequest): AttentionRequest {
  return {
    ...request,
    q: { ...request.q, data: request.q.data.slice() },
    k: { ...request.k, data: request.k.data.slice() },
    v: { ...request.v, data: request.v.data.slice() },
  };
}
