import { isSparseAttentionError, SparseAttentionError, type SparseErrorCode } from '@sparse/core';

const CODES = new Set<string>([
  'INVALID_SHAPE',
  'INVALID_PATTERN',
  'INVALID_ARGUMENT',
  'UNSUPPORTED',
  'RESOURCE_LIMIT',
  'BACKEND_UNAVAILABLE',
  'DEVICE_LOST',
  'ABORTED',
  'INTERNAL',
]);

/** Turns an error thrown by the addon (name 'SparseAttentionError', code, field) into core's error class. */
export function toSparseError(e: unknown): SparseAttentionError {
  if (e instanceof SparseAttentionError) return e;
  if (isSparseAttentionError(e) || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')) {
    const err = e as { code: string; message?: string; field?: string };
    const code = (CODES.has(err.code) ? err.code : 'INTERNAL') as SparseErrorCode;
    return new SparseAttentionError(code, err.message ?? String(e), { field: err.field, cause: e });
  }
  return new SparseAttentionError('INTERNAL', `cuda-native: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/**
 * The device code's translate(): an error the addon raised (it carries a code) as core's error class; anything
 * else is left to the kit (INTERNAL, cause kept).
 */
export function translateError(e: unknown): SparseAttentionError | undefined {
  if (e instanceof SparseAttentionError) return e;
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string') return toSparseError(e);
  return undefined;
}
