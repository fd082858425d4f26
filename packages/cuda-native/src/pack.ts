// A validated call in the addon's layout: core's head table (packHeadTable: one compiled mask per distinct
// pattern, concatenated, and one HEAD_WORDS row per query head) plus the sizes and the kernel's tiles.
import type { AttentionPlan, AttentionRequest, BlockMaskCache } from '@sparse/core';
import { type HeadTable, packHeadTable } from '@sparse/core/backend';
import type { HostNativeArgs, NativeArgs, NativePlan } from './binding.js';

/** True when some query head uses a top-k pattern (it then runs on the CUDA-core kernel). */
export function hasTopk(plan: AttentionPlan): boolean {
  return plan.patterns.some((p) => p.kind === 'topk');
}

/**
 * Packs a validated request for the addon. q, k and v are referenced, not copied: the addon reads host operands on
 * its worker thread after the call has returned, so they must be private copies (the kit hands run() copies, as
 * the device declares `readsLate`).
 */
export function packRequest(
  request: AttentionRequest,
  plan: AttentionPlan,
  kernel: Pick<NativePlan, 'kernel' | 'blockQ' | 'blockK'>,
  cache: BlockMaskCache,
  options: { precision: number; device: number },
): HostNativeArgs {
  return {
    q: request.q.data,
    k: request.k.data,
    v: request.v.data,
    out: new Float32Array(plan.batch * plan.headsQ * plan.seqQ * plan.headDimV),
    lse: plan.returnLse ? new Float32Array(plan.batch * plan.headsQ * plan.seqQ) : null,
    ...packMasks(plan, kernel, cache, options),
  };
}

export type PackedMasks = Omit<NativeArgs, 'q' | 'k' | 'v' | 'out' | 'lse'>;

/** The head table of a plan for the kernel's tiles (content-based patterns compile their `within`). */
export function headTable(plan: AttentionPlan, kernel: Pick<NativePlan, 'blockQ' | 'blockK'>, cache: BlockMaskCache): HeadTable {
  return packHeadTable(plan, cache, { blockQ: kernel.blockQ, blockK: kernel.blockK });
}

/** Everything of the packed arguments but the tensor operands (shared by the host and resident entry points). */
export function packMasks(
  plan: AttentionPlan,
  kernel: Pick<NativePlan, 'kernel' | 'blockQ' | 'blockK'>,
  cache: BlockMaskCache,
  options: { precision: number; device: number },
  table: HeadTable = headTable(plan, kernel, cache),
): PackedMasks {
  return {
    dims: Int32Array.from([plan.batch, plan.headsQ, plan.headsKv, plan.seqQ, plan.seqK, plan.headDim, plan.headDimV]),
    layout: plan.layout,
    scale: plan.scale,
    precision: options.precision,
    device: options.device,
    kernel: kernel.kernel,
    blockQ: kernel.blockQ,
    blockK: kernel.blockK,
    rowPtr: table.rowPtr,
    colIdx: table.colIdx,
    partialIdx: table.partialIdx,
    bits: table.bits,
    heads: table.heads,
    centroids: table.centroids.length > 0 ? table.centroids : null,
  };
}
