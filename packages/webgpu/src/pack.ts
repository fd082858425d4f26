import type { AttentionPlan, BlockMask, BlockMaskCache, TileSizes } from '@sparse/core';
import { packHeadTable } from '@sparse/core/backend';

/** Where each section of the kernels' table starts, in u32 words (the kernels get them as params). */
export interface TableSections {
  rowPtrAt: number;
  colIdxAt: number;
  partialIdxAt: number;
  bitsAt: number;
  centroidsAt: number;
}

/**
 * The kernels' read-only table, one u32 array: core's head table (HEAD_WORDS per query head, offsets relative to
 * each section), then the sections it points into: the distinct masks' rowPtr, colIdx, partialIdx and bits, and
 * the unit centroids of the cluster patterns as float32 bits. Cluster heads label their own keys (labels.ts), so
 * the table's label groups are not used.
 */
export interface KernelTable {
  words: Uint32Array;
  sections: TableSections;
  /** Mask of each query head (one object for heads with equal patterns). */
  headMasks: BlockMask[];
  /** Distinct masks, for statistics. */
  masks: BlockMask[];
  hasTopk: boolean;
  hasCluster: boolean;
}

const words = (a: Int32Array | Uint32Array | Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

export function packTable(plan: AttentionPlan, cache: BlockMaskCache, tiles: TileSizes): KernelTable {
  const t = packHeadTable(plan, cache, tiles);
  const parts = [t.heads, t.rowPtr, t.colIdx, t.partialIdx, t.bits, Float32Array.from(t.centroids)].map(words);
  const at: number[] = [];
  let length = 0;
  for (const part of parts) {
    at.push(length);
    length += part.length;
  }
  const out = new Uint32Array(length);
  parts.forEach((part, n) => {
    out.set(part, at[n]);
  });
  return {
    words: out,
    sections: { rowPtrAt: at[1]!, colIdxAt: at[2]!, partialIdxAt: at[3]!, bitsAt: at[4]!, centroidsAt: at[5]! },
    headMasks: Array.from(t.headMask, (m) => t.masks[m]!),
    masks: t.masks,
    hasTopk: t.hasTopk,
    hasCluster: t.hasCluster,
  };
}
