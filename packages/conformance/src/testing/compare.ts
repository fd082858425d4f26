import {
  type AttentionRequest,
  type AttentionResult,
  FLOAT32_TOLERANCE,
  isSparseAttentionError,
  type SparseAttentionError,
  type Tolerance,
} from '@sparse/core';
import { referenceAttention64 } from '@sparse/core/reference';

/** Twice float32's unit roundoff: how close a float32 lse can be, relatively, to a float64 one (docs/design.md, "Conformance"). */
const LSE_ROUNDING = 2 ** -22;

/** Largest |a[n] − b[n]| (equal values, infinities included, count as 0; a NaN on one side gives NaN). */

export interface CloseOptions {
  /** Compare as lse: |a − e| <= lseAtol + 2⁻²²·|e| (default: as out, |a − e| <= atol + rtol·|e|). */
  lse?: boolean;
}

/**
 * The first entry of `actual` that is not close to `expected` at `tol`, in words, or null when all are. A NaN is
 * expected exactly where `expected` is NaN (the non-finite rule), and infinities must be equal.
 */
export function closeMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = FLOAT32_TOLERANCE,
  what = 'out',
  options: CloseOptions = {},
): string | null {
  if (actual.length !== expected.length) return `${what} has ${actual.length} values, expected ${expected.length}`;
  for (let n = 0; n < expected.length; n++) {
    const a = actual[n]!;
    const e = expected[n]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) return `${what}[${n}] = ${a}, expected NaN`;
      continue;
    }
    if (Number.isNaN(a)) return `${what}[${n}] is NaN, expected ${e}`;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return `${what}[${n}] = ${a}, expected ${e}`;
      continue;
    }
    const bound = options.lse ? tol.lseAtol + LSE_ROUNDING * Math.abs(e) : tol.atol + tol.rtol * Math.abs(e);
    const err = Math.abs(a - e);
    if (!(err <= bound)) return `${what}[${n}] = ${a}, expected ${e} (|err| ${err.toExponential(2)} > ${bound.toExponential(2)})`;
  }
  return null;
}

/** closeMismatch that throws an Error with the description instead of returning it. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = FLOAT32_TOLERANCE,
  what = 'out',
  options: CloseOptions = {},
): void {
  const m = closeMismatch(actual, expected, tol, what, options);
  if (m !== null) throw new Error(m);
}

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((x, n) => x === b[n]);
}

/** The values (and shapes, when given) an expected result has: another backend's result, or a float64 reference. */
export interface ExpectedResult {
  out: { data: ArrayLike<number>; shape?: readonly number[] } | ArrayLike<number>;
  lse?: { data: ArrayLike<number>; shape?: readonly number[] } | ArrayLike<number>;
}

function parts(x: ExpectedResult['out']): { data: ArrayLike<number>; shape?: readonly number[] } {
  return 'data' in x && typeof x.data === 'object' ? (x as { data: ArrayLike<number>; shape?: readonly number[] }) : { data: x as ArrayLike<number> };
}

/**
 * How `actual` differs from `expected` (out, then lse when `expected` has one), or null: shapes where `expected`
 * gives them, then values at `tol`. A missing lse in `actual` is a mismatch when `expected` has one.
 */
export function resultMismatch(actual: AttentionResult, expected: ExpectedResult, tol: Tolerance = FLOAT32_TOLERANCE, label = ''): string | null {
  const pre = label ? `${label}: ` : '';
  const out = parts(expected.out);
  if (!actual?.out?.data) return `${pre}no out`;
  if (out.shape && !sameShape(actual.out.shape, out.shape)) return `${pre}out shape ${JSON.stringify(actual.out.shape)}, expected ${JSON.stringify(out.shape)}`;
  const o = closeMismatch(actual.out.data, out.data, tol, 'out');
  if (o) return pre + o;
  if (expected.lse) {
    const lse = parts(expected.lse);
    if (!actual.lse?.data) return `${pre}lse missing`;
    if (lse.shape && !sameShape(actual.lse.shape, lse.shape))
      return `${pre}lse shape ${JSON.stringify(actual.lse.shape)}, expected ${JSON.stringify(lse.shape)}`;
    const l = closeMismatch(actual.lse.data, lse.data, tol, 'lse', { lse: true });
    if (l) return pre + l;
  }
  return null;
}

/** The shapes of a request's out ([B, Hq, Sq, Dv] in its layout) and lse ([B, Hq, Sq]). */
export function resultShapes(request: AttentionRequest): { out: number[]; lse: number[] } {
  const [B, a, b] = request.q.shape as [number, number, number];
  const bshd = request.layout === 'bshd';
  return { out: [B, a, b, request.v.shape[3]!], lse: bshd ? [B, b, a] : [B, a, b] };
}

/**
 * How a result differs from core's float64 reference for the request (shapes, out, and lse when the request asks
 * for it), or null. Default tolerance: float32's (1e-5 + 1e-4·|gold|, lse 1e-5).
 */
export function referenceMismatch(request: AttentionRequest, got: AttentionResult, tol: Tolerance = FLOAT32_TOLERANCE, label = ''): string | null {
  const gold = referenceAttention64(request);
  const shapes = resultShapes(request);
  return resultMismatch(
    got,
    { out: { data: gold.out, shape: shapes.out }, ...(request.returnLse ? { lse: { data: gold.lse, shape: shapes.lse } } : {}) },
    tol,
    label,
  );
}

/** referenceMismatch that throws an Error with the description. */
export function assertMatchesReference(request: AttentionRequest, got: AttentionResult, tol: Tolerance = FLOAT32_TOLERANCE, label = ''): void {
  const m = referenceMismatch(request, got, tol, label);
  if (m !== null) throw new Error(m);
}

/**
 * The SparseAttentionError a promise rejects with. Throws an Error when it resolves, rejects with anything else,
 * or — given a function — when the function throws synchronously instead of returning a rejected promise.
 */
export async function rejection(p: Promise<unknown> | (() => Promise<unknown>)): Promise<SparseAttentionError> {
  let promise: Promise<unknown>;
  if (typeof p === 'function') {
    try {
      promise = p();
    } catch (e) {
      throw new Error(`threw synchronously instead of returning a rejected promise: ${String(e)}`);
    }
  } else promise = p;
  let result: unknown;
  try {
    result = await promise;
  } catch (e) {
    if (isSparseAttentionError(e)) return e;
    throw new Error(`rejected with something other than a SparseAttentionError: ${String(e)}`);
  }
  throw new Error(`resolved (with ${typeof result}), expected a rejection`);
}
