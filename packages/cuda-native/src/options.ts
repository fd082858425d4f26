import type { BackendOptions } from '@sparse/core';
import { fail, type ResolvedOptions, resolveOptions, type TileLimits, type TileOptions } from '@sparse/core/backend';

/** Storage precision of q, k, v on the GPU. Host arrays are float32 and converted (round to nearest even). */
export type Precision = 'float32' | 'bfloat16' | 'float16';

export const PRECISIONS: readonly Precision[] = ['float32', 'bfloat16', 'float16'];

/** The native code of each precision. */
export const PRECISION_CODE: Record<Precision, number> = { float32: 0, bfloat16: 1, float16: 2 };

export interface CudaNativeOptions extends BackendOptions {
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
}

/** The backend's own option names (the shared ones are tiles, maskCacheSize and partitionDilation). */
export const OWN_KEYS = ['precision', 'device', 'binaryPath', 'isolateLoad'] as const;

/**
 * The tile sizes the kernels are compiled for: the CUDA-core kernel runs 32 × 32, the tensor-core tiers 64 × 64
 * (head dims up to 128) and 64 × 32 (up to 256). The addon picks the kernel, so `tiles` is a request: a call
 * whose kernel uses other tiles is refused (supports() says which it would use).
 */
export const TILE_LIMITS: TileLimits = { blockQ: [32, 64], blockK: [32, 64] };

export interface ResolvedCudaOptions {
  shared: ResolvedOptions;
  precision: Precision;
  device: number;
  binaryPath: string | undefined;
  isolateLoad: boolean;
  /** The requested tiles (either may be absent: any size of that side is accepted). */
  tiles: TileOptions;
}

/** Validates every option at construction: INVALID_ARGUMENT naming the field, unknown keys included. */
export function resolveCudaOptions(options: unknown): ResolvedCudaOptions {
  const shared = resolveOptions(options, OWN_KEYS, TILE_LIMITS);
  const o = (options ?? {}) as CudaNativeOptions;
  const precision = o.precision ?? 'float32';
  if (!PRECISIONS.includes(precision)) fail('INVALID_ARGUMENT', 'precision', `must be one of ${PRECISIONS.join(', ')}`, precision);
  const device = o.device ?? 0;
  if (!(typeof device === 'number' && Number.isInteger(device) && device >= 0)) fail('INVALID_ARGUMENT', 'device', 'must be a CUDA device index >= 0', device);
  if (o.binaryPath !== undefined && (typeof o.binaryPath !== 'string' || o.binaryPath === ''))
    fail('INVALID_ARGUMENT', 'binaryPath', 'must be the path of the addon (.node)', o.binaryPath);
  const isolateLoad = o.isolateLoad ?? true;
  if (typeof isolateLoad !== 'boolean') fail('INVALID_ARGUMENT', 'isolateLoad', 'must be a boolean', isolateLoad);
  return { shared, precision, device, binaryPath: o.binaryPath, isolateLoad, tiles: shared.tiles };
}
