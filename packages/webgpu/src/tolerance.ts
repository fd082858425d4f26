import type { AttentionRequest } from '@sparse/core';
import { FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';

/**
 * The kernels compute in float32 throughout (scores, online softmax, accumulator) with WGSL's exp and log, so the
 * results meet core's float32 tolerance whatever the request and the adapter; no probe is needed to say so.
 */
export function tolerance(_request?: AttentionRequest): Tolerance {
  return { ...FLOAT32_TOLERANCE };
}
