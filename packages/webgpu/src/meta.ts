import { type AttentionPlan, type BlockMask, type BlockMaskCache, type Pattern, patternKey } from '@sparse/core';
import { normalisedCentroids } from '@sparse/core/backend';
import { HEAD_WORDS, MODE_CLUSTER, MODE_STATIC, MODE_TOPK } from './wgsl/attention.js';

/**
 * The kernels' read-only table, one u32 array: a head table (HEAD_WORDS per query head: rowPtr, colIdx,
 * partialIdx and bits offsets of its mask, mode, top-k k, cluster count C, centroid offset), then every distinct
 * mask's arrays, then the unit centroids (float32 bits) of every distinct cluster pattern.
 */
export interface MetaTable {
  words: Uint32Array;
  /** Mask of each query head (shared objects for shared patterns). */
  headMasks: BlockMask[];
  /** Distinct masks, for statistics. */
  masks: BlockMask[];
  hasTopk: boolean;
  hasCluster: boolean;
}

export function buildMeta(plan: AttentionPlan, cache: BlockMaskCache, tiles: { blockQ: number; blockK: number }): MetaTable {
  const { headsQ, seqQ, seqK, offset } = plan;
  const byKey = new Map<string, { mask: BlockMask; at: number }>();
  const centroids = new Map<string, { unit: Float32Array; at: number; C: number }>();
  const keyOf = new Map<Pattern, string>();
  const headMasks: BlockMask[] = [];
  let words = headsQ * HEAD_WORDS;
  const key = (p: Pattern) => {
    let k = keyOf.get(p);
    if (k === undefined) keyOf.set(p, (k = patternKey(p)));
    return k;
  };
  for (const p of plan.patterns) {
    const k = key(p);
    let entry = byKey.get(k);
    if (!entry) {
      const mask = cache.get(p, { seqQ, seqK, offset }, tiles);
      entry = { mask, at: words };
      byKey.set(k, entry);
      words += mask.rowPtr.length + mask.colIdx.length + mask.partialIdx.length + mask.bits.length;
    }
    headMasks.push(entry.mask);
    if (p.kind === 'cluster' && !centroids.has(k)) {
      const unit = Float32Array.from(normalisedCentroids(p));
      centroids.set(k, { unit, at: words, C: p.centroids.length });
      words += unit.length;
    }
  }
  const out = new Uint32Array(words);
  for (const { mask, at } of byKey.values()) {
    let w = at;
    for (const arr of [mask.rowPtr, mask.colIdx, mask.partialIdx] as const) {
      out.set(new Uint32Array(arr.buffer, arr.byteOffset, arr.length), w);
      w += arr.length;
    }
    out.set(mask.bits, w);
  }
  for (const { unit, at } of centroids.values()) out.set(new Uint32Array(unit.buffer, unit.byteOffset, unit.length), at);
  let hasTopk = false;
  let hasCluster = false;
  plan.patterns.forEach((p, h) => {
    const k = key(p);
    const { mask, at } = byKey.get(k)!;
    const base = h * HEAD_WORDS;
    out[base] = at;
    out[base + 1] = at + mask.rowPtr.length;
    out[base + 2] = at + mask.rowPtr.length + mask.colIdx.length;
    out[base + 3] = at + mask.rowPtr.length + mask.colIdx.length + mask.partialIdx.length;
    out[base + 4] = p.kind === 'topk' ? MODE_TOPK : p.kind === 'cluster' ? MODE_CLUSTER : MODE_STATIC;
    if (p.kind === 'topk') {
      hasTopk = true;
      out[base + 5] = p.k;
    } else if (p.kind === 'cluster') {
      hasCluster = true;
      const c = centroids.get(k)!;
      out[base + 6] = c.C;
      out[base + 7] = c.at;
    }
  });
  return { words: out, headMasks, masks: [...byKey.values()].map((e) => e.mask), hasTopk, hasCluster };
}
