import type { AttentionPlan, AttentionRequest, BlockMask, BlockMaskCache, Pattern } from '@sparse/core';
import { normalisedCentroids } from '@sparse/core/backend';
import {
  HEAD_BITS,
  HEAD_CENTROIDS,
  HEAD_COL,
  HEAD_FIELDS,
  HEAD_MODE,
  HEAD_PARAM,
  HEAD_ROWPTR,
  type HostNativeArgs,
  MODE_CLUSTER,
  MODE_STATIC,
  MODE_TOPK,
  type NativeArgs,
  type NativePlan,
} from './binding.js';

interface MaskSlot {
  rowPtrOff: number;
  colOff: number;
  bitsOff: number;
}

/** True when some query head uses a top-k pattern (it then runs on the CUDA-core kernel). */
export function hasTopk(plan: AttentionPlan): boolean {
  return plan.patterns.some((p) => p.kind === 'topk');
}

/**
 * Packs a validated request for the addon: one BlockMask per distinct pattern (compiled for the kernel's
 * tiles; content-based patterns compile their `within`), concatenated, plus one 8-int descriptor per query
 * head pointing into them, and the unit-normalised centroids of cluster heads. Per-head patterns that are
 * the same object (or compile to the same mask) share one copy.
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

/** Everything of the packed arguments but the tensor operands (shared by the host and resident entry points). */
export function packMasks(
  plan: AttentionPlan,
  kernel: Pick<NativePlan, 'kernel' | 'blockQ' | 'blockK'>,
  cache: BlockMaskCache,
  options: { precision: number; device: number },
): PackedMasks {
  const tiles = { blockQ: kernel.blockQ, blockK: kernel.blockK };
  const shape = { seqQ: plan.seqQ, seqK: plan.seqK, offset: plan.offset };
  const masks: BlockMask[] = [];
  const maskOf = new Map<Pattern, BlockMask>();
  const slotOf = new Map<BlockMask, MaskSlot>();
  const centroidOf = new Map<Pattern, number>();
  const centroidParts: Float64Array[] = [];
  let rowPtrLen = 0;
  let colLen = 0;
  let bitsLen = 0;
  let centroidLen = 0;

  for (const pattern of plan.patterns) {
    if (maskOf.has(pattern)) continue;
    const mask = cache.get(pattern, shape, tiles);
    maskOf.set(pattern, mask);
    if (!slotOf.has(mask)) {
      slotOf.set(mask, { rowPtrOff: rowPtrLen, colOff: colLen, bitsOff: bitsLen });
      masks.push(mask);
      rowPtrLen += mask.rowPtr.length;
      colLen += mask.colIdx.length;
      bitsLen += mask.bits.length;
    }
    if (pattern.kind === 'cluster') {
      const unit = normalisedCentroids(pattern);
      centroidOf.set(pattern, centroidLen);
      centroidParts.push(unit);
      centroidLen += unit.length;
    }
  }

  const rowPtr = new Int32Array(rowPtrLen);
  const colIdx = new Int32Array(colLen);
  const partialIdx = new Int32Array(colLen);
  const bits = new Uint32Array(bitsLen);
  for (const mask of masks) {
    const slot = slotOf.get(mask)!;
    rowPtr.set(mask.rowPtr, slot.rowPtrOff);
    colIdx.set(mask.colIdx, slot.colOff);
    partialIdx.set(mask.partialIdx, slot.colOff);
    bits.set(mask.bits, slot.bitsOff);
  }
  let centroids: Float64Array | null = null;
  if (centroidLen > 0) {
    centroids = new Float64Array(centroidLen);
    let at = 0;
    for (const part of centroidParts) {
      centroids.set(part, at);
      at += part.length;
    }
  }

  const heads = new Int32Array(plan.headsQ * HEAD_FIELDS);
  plan.patterns.forEach((pattern, h) => {
    const slot = slotOf.get(maskOf.get(pattern)!)!;
    const d = h * HEAD_FIELDS;
    heads[d + HEAD_ROWPTR] = slot.rowPtrOff;
    heads[d + HEAD_COL] = slot.colOff;
    heads[d + HEAD_BITS] = slot.bitsOff;
    heads[d + HEAD_MODE] = MODE_STATIC;
    if (pattern.kind === 'topk') {
      heads[d + HEAD_MODE] = MODE_TOPK;
      heads[d + HEAD_PARAM] = pattern.k;
    } else if (pattern.kind === 'cluster') {
      heads[d + HEAD_MODE] = MODE_CLUSTER;
      heads[d + HEAD_PARAM] = pattern.centroids.length;
      heads[d + HEAD_CENTROIDS] = centroidOf.get(pattern)!;
    }
  });

  return {
    dims: Int32Array.from([plan.batch, plan.headsQ, plan.headsKv, plan.seqQ, plan.seqK, plan.headDim, plan.headDimV]),
    layout: plan.layout,
    scale: plan.scale,
    precision: options.precision,
    device: options.device,
    kernel: kernel.kernel,
    blockQ: kernel.blockQ,
    blockK: kernel.blockK,
    rowPtr,
    colIdx,
    partialIdx,
    bits,
    heads,
    centroids,
  };
}

/** Allowed pairs of the packed request over all batches and heads (from the compiled masks; static patterns only). */
export function packedNnz(plan: AttentionPlan, cache: BlockMaskCache, tiles: { blockQ: number; blockK: number }): number {
  let nnz = 0;
  for (const pattern of plan.patterns) nnz += cache.get(pattern, plan, tiles).stats.nnz;
  return nnz * plan.batch;
}
