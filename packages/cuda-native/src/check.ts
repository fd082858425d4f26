// What the backend refuses before anything runs (supports() and every entry point): head dims above the kernels'
// 256, and tiles the kernel a call would run on is not compiled for.
import type { AttentionPlan } from '@sparse/core';
import type { Refusal, TileOptions } from '@sparse/core/backend';
import type { NativeBinding, NativePlan } from './binding.js';
import { PRECISION_CODE, type Precision } from './options.js';
import { hasTopk } from './pack.js';

export const MAX_HEAD_DIM = 256;

/** Kernel names by the addon's kernel code (0 CUDA-core, 1..3 tensor-core tier 64 / 128 / 256). */
export const KERNEL_NAMES: readonly string[] = ['simt', 'mma64', 'mma128', 'mma256'];

/**
 * The kernel and tiles the addon picks (native/dispatch.cc chooseKernel, native/tiles.h): float32 storage and
 * top-k on the CUDA-core kernel (32 × 32), else the tensor-core tier of max(D, Dv) (64 × 64, 64 × 32 at 256).
 * Used before the addon is loaded; afterwards its own plan() answers (test/native.test.ts checks they agree).
 */
export function expectedKernel(precision: Precision, headDim: number, headDimV: number, topk: boolean): Pick<NativePlan, 'kernel' | 'blockQ' | 'blockK'> {
  if (precision === 'float32' || topk) return { kernel: 0, blockQ: 32, blockK: 32 };
  const tier = Math.max(headDim, headDimV);
  const kernel = tier <= 64 ? 1 : tier <= 128 ? 2 : 3;
  return { kernel, blockQ: 64, blockK: kernel === 3 ? 32 : 64 };
}

/** The kernel a plan runs on: the addon's answer when it is loaded. */
export function kernelOf(binding: NativeBinding | null, precision: Precision, plan: AttentionPlan): Pick<NativePlan, 'kernel' | 'blockQ' | 'blockK'> {
  const topk = hasTopk(plan);
  return binding ? binding.plan(PRECISION_CODE[precision], plan.headDim, plan.headDimV, topk) : expectedKernel(precision, plan.headDim, plan.headDimV, topk);
}

/** The one refusal of a plan: head dims, then the requested tiles against the kernel's. */
export function refusal(plan: AttentionPlan, binding: NativeBinding | null, precision: Precision, tiles: TileOptions): Refusal | null {
  if (plan.headDim > MAX_HEAD_DIM)
    return { code: 'UNSUPPORTED', field: 'q.shape[3]', message: `cuda-native: head dim D = ${plan.headDim} is above the supported ${MAX_HEAD_DIM}` };
  if (plan.headDimV > MAX_HEAD_DIM)
    return { code: 'UNSUPPORTED', field: 'q.shape[3]', message: `cuda-native: value head dim Dv = ${plan.headDimV} is above the supported ${MAX_HEAD_DIM}` };
  if (tiles.blockQ === undefined && tiles.blockK === undefined) return null;
  const kernel = kernelOf(binding, precision, plan);
  if ((tiles.blockQ ?? kernel.blockQ) === kernel.blockQ && (tiles.blockK ?? kernel.blockK) === kernel.blockK) return null;
  const asked = [tiles.blockQ !== undefined ? `blockQ: ${tiles.blockQ}` : '', tiles.blockK !== undefined ? `blockK: ${tiles.blockK}` : '']
    .filter(Boolean)
    .join(', ');
  const why =
    kernel.kernel === 0
      ? precision === 'float32'
        ? 'float32 storage'
        : 'a top-k head'
      : `${precision} storage with max(D, Dv) = ${Math.max(plan.headDim, plan.headDimV)}`;
  return {
    code: 'UNSUPPORTED',
    field: 'tiles',
    message:
      `cuda-native: tiles { ${asked} } were requested, but this call runs on the ${KERNEL_NAMES[kernel.kernel]} kernel (${why}), ` +
      `compiled for tiles ${kernel.blockQ} × ${kernel.blockK}; request those or leave tiles unset`,
  };
}
