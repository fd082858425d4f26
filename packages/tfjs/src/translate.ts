import { isSparseAttentionError, SparseAttentionError } from '@sparse/core';

/** An error from tf.js during a call, typed: out of memory is RESOURCE_LIMIT, anything else INTERNAL. */
export function typedFailure(e: unknown): SparseAttentionError {
  if (isSparseAttentionError(e)) return e;
  const message = (e as Error)?.message ?? String(e);
  if (/out of memory|\bOOM\b|failed to allocate|allocation failed/i.test(message))
    return new SparseAttentionError('RESOURCE_LIMIT', `tfjs: tf.js ran out of memory during the call: ${message}`, { cause: e });
  return new SparseAttentionError('INTERNAL', `tfjs: tf.js failed during the call: ${message} (a bug: please report it)`, { cause: e });
}
