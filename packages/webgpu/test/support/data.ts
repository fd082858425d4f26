// What the browser page (browser/page.ts) imports from here: the shared seeded requests, and the reference check
// these tests use.
import { closeMismatch, FLOAT32_TOLERANCE, referenceMismatch, type Tolerance } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult } from '@sparse/core';
import { referenceAttention64 } from '@sparse/core/reference';

export { makeRequest } from '@sparse/conformance/testing';

/**
 * How a result differs from core's float64 reference (referenceMismatch: shapes, out, NaN where the reference has
 * NaN), or null; lse is held to `tol.lseAtol` alone, without the contract's 2⁻²²·|gold| term.
 */
export function mismatch(request: AttentionRequest, got: AttentionResult, tol: Tolerance = FLOAT32_TOLERANCE): string | null {
  const m = referenceMismatch(request, got, tol);
  if (m !== null || !request.returnLse) return m;
  return closeMismatch(got.lse!.data, referenceAttention64(request).lse, { ...tol, atol: tol.lseAtol, rtol: 0 }, 'lse');
}
