import type { AttentionPlan } from '@sparse/core';
import type { Refusal } from '@sparse/core/backend';

/** The tf.js wasm backend's heap is one wasm32 memory: 4 GiB in all, shared by every tensor. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * Refuses before allocating what cannot fit (RESOURCE_LIMIT). On tf.js wasm a call holds its inputs (and bshd
 * transposes), the outputs (and their concatenation) and a few score-sized intermediates per chunk; past the 4 GiB
 * heap, tf.js fails with "memory access out of bounds" in the middle of a call. Other tf.js backends are not
 * bounded this way. supports(), attention() and attentionResident() all refuse with this one estimate.
 */
export function checkHeap(backendName: string, plan: AttentionPlan, maxElements: number): Refusal | null {
  if (backendName !== 'wasm') return null;
  const inputs = plan.batch * (plan.headsQ * plan.seqQ * plan.headDim + plan.headsKv * plan.seqK * (plan.headDim + plan.headDimV));
  const outputs = plan.batch * plan.headsQ * plan.seqQ * (plan.headDimV + 1);
  const copies = plan.layout === 'bshd' ? 2 : 1;
  const bytes = 4 * (copies * inputs + 3 * outputs + 8 * maxElements);
  if (bytes <= WASM_HEAP_BYTES) return null;
  return {
    code: 'RESOURCE_LIMIT',
    field: 'request',
    message: `request: needs about ${(bytes / 2 ** 30).toFixed(2)} GiB of the tf.js wasm heap (4 GiB); split it by batch or heads, or use another tf.js backend (got ${bytes})`,
  };
}
