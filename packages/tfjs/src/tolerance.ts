import { FLOAT32_TOLERANCE, type Tolerance } from '@sparse/core';
import type { TF } from './types.js';

/**
 * The tolerance this package declares per tf.js backend. cpu and wasm compute in float32 on the CPU and meet
 * the float32 tolerance; GPU backends evaluate exp/log with the GPU's approximations (looser), and webgl without float32
 * render targets stores every intermediate as a half float (much looser).
 */
export function toleranceFor(backendName: string, floatPrecision: 16 | 32 | number = 32): Tolerance {
  if (floatPrecision !== 32) return { atol: 1e-2, rtol: 1e-2, lseAtol: 2e-2 };
  switch (backendName) {
    case 'webgl':
    case 'webgpu':
      return { atol: 1e-4, rtol: 1e-3, lseAtol: 1e-4 };
    default:
      return { ...FLOAT32_TOLERANCE };
  }
}

/** The tolerance of the tf.js backend that is active in `tf` now. */
export function activeTolerance(tf: TF): Tolerance {
  return toleranceFor(tf.getBackend(), tf.backend().floatPrecision());
}
