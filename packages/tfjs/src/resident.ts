import type { AttentionPlan, ResidentRequest, ResidentResult } from '@sparse/core';
import { fail, type Kit, planAttentionShapes, type Refusal, throwRefusal } from '@sparse/core/backend';
import { attendTensors } from './compute.js';
import { activate, type TfContext } from './device.js';
import type { TfjsSettings } from './options.js';
import type { Tensor } from './types.js';

export interface TfjsResident {
  /**
   * Sparse attention on tf.Tensors (docs/resident.md): q, k, v stay on the tf.js backend and out (and lse) come
   * back as tf.Tensors the caller owns; no other tensor is left behind. The same gates as attention(): refused
   * once disposed or aborted, validated like every backend's request, the same resource check. q, k and v must
   * stay alive until the promise settles.
   */
  attentionResident(request: ResidentRequest<Tensor>, options?: { signal?: AbortSignal }): Promise<ResidentResult<Tensor>>;
}

function shapeOf(t: unknown, name: string): number[] {
  const tensor = t as Partial<Tensor> | null | undefined;
  if (typeof tensor !== 'object' || tensor === null || !Array.isArray(tensor.shape) || typeof tensor.dtype !== 'string')
    fail('INVALID_ARGUMENT', name, 'must be a tf.Tensor', t);
  if (tensor.isDisposed) fail('INVALID_ARGUMENT', name, 'is a disposed tf.Tensor', tensor.shape);
  if (tensor.dtype !== 'float32') fail('INVALID_ARGUMENT', `${name}.dtype`, 'must be "float32"', tensor.dtype);
  return [...tensor.shape];
}

/** Validates a resident request with core's rules (same codes and messages as planAttention) and resolves its sizes. */
function planResident(request: ResidentRequest<Tensor>): AttentionPlan {
  if (typeof request !== 'object' || request === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v and pattern', request);
  return planAttentionShapes({
    q: shapeOf(request.q, 'q'),
    k: shapeOf(request.k, 'k'),
    v: shapeOf(request.v, 'v'),
    pattern: request.pattern,
    scale: request.scale,
    queryOffset: request.queryOffset,
    layout: request.layout,
    returnLse: request.returnLse,
  });
}

const refuse = throwRefusal;

/** The resident entry point on the kit's gates; `check` is the device's one resource check. */
export function residentEntry(
  kit: Kit<TfContext>,
  settings: TfjsSettings,
  check: (plan: AttentionPlan, ctx: TfContext | null) => Refusal | null,
): TfjsResident {
  return {
    attentionResident(request, options) {
      const signal = options?.signal;
      let plan: AttentionPlan | null = null;
      const { q, k, v } = request ?? {};
      // The kit's own gates (disposed, aborted) come first, as for attention(); then the request is validated
      // before the promise is returned (its patterns are copied then).
      if (!kit.disposed() && !signal?.aborted) {
        try {
          plan = planResident(request);
          refuse(check(plan, kit.live()));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      return kit.call(async (ctx) => {
        const t0 = performance.now();
        const inputs = { q: q!, k: k!, v: v! };
        for (const [name, t] of Object.entries(inputs)) if (t.isDisposed) fail('INVALID_ARGUMENT', name, 'is a disposed tf.Tensor', t.shape);
        refuse(check(plan!, ctx)); // the real limits, now that the tf.js backend is known
        const switching = activate(ctx);
        if (switching) await switching;
        const result = attendTensors(ctx, settings, inputs, plan!);
        kit.record(ctx, 1, performance.now() - t0);
        return result;
      }, signal);
    },
  };
}
