/** Storage precision of q, k, v on the GPU. Host arrays are float32 and converted (round to nearest even). */
export type Precision = 'float32' | 'bfloat16' | 'float16';

export const PRECISIONS: readonly Precision[] = ['float32', 'bfloat16', 'float16'];

/** The native code of each precision. */
export const PRECISION_CODE: Record<Precision, number> = { float32: 0, bfloat16: 1, float16: 2 };

/**
 * Fixed tolerances per storage precision, for inputs of magnitude about 1 (|v| ≤ 1, |scores| ≤ 4). A request's
 * own tolerance is toleranceFor(precision, request) (src/tolerance.ts): derived from the storage type's unit
 * roundoff and the request's magnitudes, it is what the conformance runs use. float32 storage computes in
 * float32 on CUDA cores and meets the project's float32 tolerance.
 */
export const TOLERANCES: Record<Precision, { atol: number; rtol: number; lseAtol: number }> = {
  float32: { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 },
  bfloat16: { atol: 3e-2, rtol: 3e-2, lseAtol: 3e-2 },
  float16: { atol: 4e-3, rtol: 4e-3, lseAtol: 4e-3 },
};

export interface CudaNativeOptions {
  /** Storage precision of q, k, v on the GPU (default 'float32'). Accumulation is float32 in every case. */
  precision?: Precision;
  /** CUDA device index (default 0). */
  device?: number;
  /** Path of the addon (.node) to load instead of the platform package or the local build. */
  binaryPath?: string;
  /**
   * Load the addon in a child process first, so that a broken binary (wrong architecture, missing symbol, a
   * crash in its initialisers) fails that child and not this process (default true).
   */
  isolateLoad?: boolean;
  /** Capacity of the compiled BlockMask LRU cache (default 32). */
  maskCacheSize?: number;
}

export function resolvePrecision(p: unknown): Precision {
  if (p === undefined) return 'float32';
  if (typeof p === 'string' && (PRECISIONS as readonly string[]).includes(p)) return p as Precision;
  return 'invalid' as Precision;
}
