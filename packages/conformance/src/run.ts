import { type Backend, isSparseAttentionError } from '@sparse/core';
import type { GoldenCase } from './cases.js';
import { type CaseOutcome, compareResult } from './compare.js';
import { FLOAT32_TOLERANCE, type Tolerance } from './manifest.js';

export interface RunOptions {
  /** Overrides the cases' tolerance (a backend computing in lower precision declares its own). */
  tolerance?: Partial<Tolerance>;
  /** Case id → reason. A skipped case is reported with its reason, never silently dropped. */
  skip?: Record<string, string>;
}

/** Runs one golden case on a backend and compares it; never throws (errors become a failed outcome). */
export async function runCase(backend: Backend, golden: GoldenCase, options: RunOptions = {}): Promise<CaseOutcome> {
  const id = golden.manifest.id;
  const reason = options.skip?.[id];
  if (reason !== undefined) return { id, pass: true, skipped: true, maxAbsErr: 0, maxRelErr: 0, lseMaxErr: 0, message: `skipped: ${reason}` };
  const tol: Tolerance = { ...FLOAT32_TOLERANCE, ...golden.manifest.tolerance, ...options.tolerance };
  const supported = backend.supports(golden.request);
  if (supported !== true) return { id, pass: false, maxAbsErr: Infinity, maxRelErr: Infinity, lseMaxErr: Infinity, message: `unsupported: ${supported}` };
  const started = performance.now();
  try {
    const result = await backend.attention(golden.request);
    return { id, ms: performance.now() - started, ...compareResult(golden, result, tol) };
  } catch (e) {
    const what = isSparseAttentionError(e) ? `${e.code}: ${e.message}` : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    return { id, pass: false, maxAbsErr: Infinity, maxRelErr: Infinity, lseMaxErr: Infinity, message: `threw ${what}` };
  }
}
