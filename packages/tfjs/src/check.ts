import type { AttentionPlan } from '@sparse/core';
import type { Refusal } from '@sparse/core/backend';
import type { CallWork } from './compute.js';

/** The tf.js wasm backend's heap is one wasm32 memory: 4 GiB in all, shared by every tensor. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * Key-sized copies alive while one side (k or v) is cleaned and arranged: its slice, the per-key check, the
 * finite mask, zeros, the cleaned copy and the padded one (compute.ts keySide).
 */
const KEY_SIDE_COPIES = 5;

/** Score-sized tensors one chunk holds at its peak (its tidy keeps them all: about 14 on tf.js cpu's trace). */
export const SCORE_COPIES = 16;

/**
 * Bytes of the tf.js wasm heap a call holds at its peak: its inputs (and bshd transposes), the outputs (and their
 * concatenation), the arranged key blocks of k and v with the temporaries of arranging one of them, and the
 * score-sized intermediates of one chunk (at least maxElements of them, more when a single query block lists more
 * keys). Without `work` (the call's plan, compute.ts callWork) every key is assumed arranged.
 */
export function heapBytes(plan: AttentionPlan, maxElements: number, work?: CallWork): number {
  const { batch, headsQ, headsKv, seqQ, seqK, headDim, headDimV } = plan;
  const inputs = batch * (headsQ * seqQ * headDim + headsKv * seqK * (headDim + headDimV));
  const outputs = batch * headsQ * seqQ * (headDimV + 1);
  const copies = plan.layout === 'bshd' ? 2 : 1;
  const w = work ?? {
    keyElements: batch * headsKv * seqK * Math.max(headDim, headDimV),
    arranged: batch * headsKv * seqK * (headDim + headDimV),
    chunkScores: 0,
    chunkKeys: 0,
  };
  const keys = w.arranged + KEY_SIDE_COPIES * w.keyElements;
  const chunk = SCORE_COPIES * Math.max(maxElements, w.chunkScores) + 2 * w.chunkKeys;
  return 4 * (copies * inputs + 3 * outputs + keys + chunk);
}

/**
 * Refuses before allocating what cannot fit (RESOURCE_LIMIT). Past the 4 GiB heap, tf.js wasm fails with "memory
 * access out of bounds" in the middle of a call (reported as another error under tf.profile) and can leave its
 * module unusable for the calls after it. Other tf.js backends are not bounded this way. supports(), attention()
 * and attentionResident() all refuse with this one estimate.
 */
export function checkHeap(backendName: string, plan: AttentionPlan, maxElements: number, work?: CallWork): Refusal | null {
  if (backendName !== 'wasm') return null;
  const bytes = heapBytes(plan, maxElements, work);
  if (bytes <= WASM_HEAP_BYTES) return null;
  return {
    code: 'RESOURCE_LIMIT',
    field: 'request',
    message: `request: needs about ${(bytes / 2 ** 30).toFixed(2)} GiB of the tf.js wasm heap (4 GiB); split it by batch or heads, or use another tf.js backend (got ${bytes})`,
  };
}
