import type { AttentionPlan } from '@sparse/core';
import { fail, planAttentionShapes } from '@sparse/core/backend';
import type { SparseAttentionArgs, Tensor } from './types.js';

function shapeOf(t: unknown, name: string): number[] {
  const tensor = t as Partial<Tensor> | null | undefined;
  if (typeof tensor !== 'object' || tensor === null || !Array.isArray(tensor.shape) || typeof tensor.dtype !== 'string')
    fail('INVALID_ARGUMENT', name, 'must be a tf.Tensor', t);
  if (tensor.isDisposed) fail('INVALID_ARGUMENT', name, 'is a disposed tf.Tensor', tensor.shape);
  if (tensor.dtype !== 'float32') fail('INVALID_ARGUMENT', `${name}.dtype`, 'must be "float32"', tensor.dtype);
  return [...tensor.shape];
}

/** Validates a resident request with core's rules (same error codes and messages) and resolves its sizes. */
export function planResident(args: SparseAttentionArgs): AttentionPlan {
  if (typeof args !== 'object' || args === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v and pattern', args);
  return planAttentionShapes({
    q: shapeOf(args.q, 'q'),
    k: shapeOf(args.k, 'k'),
    v: shapeOf(args.v, 'v'),
    pattern: args.pattern,
    scale: args.scale,
    queryOffset: args.queryOffset,
    layout: args.layout,
    returnLse: args.returnLse,
  });
}
