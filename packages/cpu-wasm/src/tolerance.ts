import { type AttentionRequest, FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';

/**
 * The float32 tolerance of docs/design.md for every request: scores and sums are float32 (one multiply then one
 * add per term, no FMA), and exp2 is a degree-6 polynomial accurate to about 1e-7 relative.
 */
export function cpuWasmTolerance(_request?: AttentionRequest): Tolerance {
  return { ...FLOAT32_TOLERANCE };
}
