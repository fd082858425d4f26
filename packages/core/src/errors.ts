/** Stable error codes shared by every package (docs/design.md, Errors). */
export type SparseErrorCode =
  | 'INVALID_SHAPE'
  | 'INVALID_PATTERN'
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED'
  | 'RESOURCE_LIMIT'
  | 'BACKEND_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'ABORTED'
  | 'INTERNAL';

/**
 * The one error class of the project. `code` is stable and meant for programs; `field` names the offending
 * input (`q.shape[1]`, `pattern.of[2].left`, …) and the message always repeats field and value for people.
 */
export class SparseAttentionError extends Error {
  readonly code: SparseErrorCode;
  readonly field: string | undefined;
  constructor(code: SparseErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SparseAttentionError';
    this.code = code;
    this.field = options?.field;
  }
}

export function isSparseAttentionError(e: unknown): e is SparseAttentionError {
  return (
    e instanceof SparseAttentionError ||
    (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'SparseAttentionError' && typeof (e as { code?: unknown }).code === 'string')
  );
}

/** Short, bounded rendering of a user value for error messages. */
export function show(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value))
    return value.length > 8 ? `[${value.slice(0, 8).map(show).join(', ')}, … (${value.length} items)]` : `[${value.map(show).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (typeof value === 'object') {
    try {
      const s = JSON.stringify(value);
      return s.length > 60 ? `${s.slice(0, 60)}…` : s;
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

export function fail(code: SparseErrorCode, field: string, problem: string, ...value: [unknown?]): never {
  const shown = value.length > 0 ? ` (got ${show(value[0])})` : '';
  throw new SparseAttentionError(code, `${field}: ${problem}${shown}`, { field });
}
