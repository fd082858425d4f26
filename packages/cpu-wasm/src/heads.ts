import type { AttentionPlan, BlockMask, BlockMaskCache, Pattern, TileSizes } from '@sparse/core';
import { normalisedCentroids } from '@sparse/core/backend';
import { KIND_CLUSTER, KIND_STATIC, KIND_TOPK } from './abi.js';

/** What the kernel needs to know about one query head. */
export interface HeadSpec {
  /** Index into `masks` (the compiled pattern, or the `within` of a content-based one). */
  mask: number;
  kind: number;
  /** Top-k: k. */
  k: number;
  /** Cluster: index into `labelGroups` (key labels of this head's kv head and centroids); else -1. */
  labelGroup: number;
  /** Cluster: index into `units`; else -1. */
  unit: number;
}

/** Key labels to compute: kv head `hk` against centroids `unit`. */
export interface LabelGroup {
  unit: number;
  hk: number;
}

export interface HeadSpecs {
  heads: HeadSpec[];
  masks: BlockMask[];
  /** Unit-normalised centroids (float64 [C][D]) of each distinct cluster pattern. */
  units: { data: Float64Array; count: number }[];
  labelGroups: LabelGroup[];
  anyTopk: boolean;
  anyCluster: boolean;
}

/**
 * Compiles (through the cache) one mask per distinct pattern and describes every query head: static, top-k
 * (k; the mask is that of `within`) or cluster (its centroids and the key-label group of its kv head).
 */
export function headSpecs(plan: AttentionPlan, cache: BlockMaskCache, tiles: TileSizes): HeadSpecs {
  const masks: BlockMask[] = [];
  const maskIndex = new Map<BlockMask, number>();
  const unitIndex = new Map<Pattern, number>();
  const units: HeadSpecs['units'] = [];
  const groupIndex = new Map<string, number>();
  const labelGroups: LabelGroup[] = [];
  const shape = { seqQ: plan.seqQ, seqK: plan.seqK, offset: plan.offset };
  const heads = plan.patterns.map((pattern, h): HeadSpec => {
    const mask = cache.get(pattern, shape, tiles);
    let m = maskIndex.get(mask);
    if (m === undefined) {
      m = masks.length;
      masks.push(mask);
      maskIndex.set(mask, m);
    }
    if (pattern.kind === 'topk') return { mask: m, kind: KIND_TOPK, k: pattern.k, labelGroup: -1, unit: -1 };
    if (pattern.kind === 'cluster') {
      let u = unitIndex.get(pattern);
      if (u === undefined) {
        u = units.length;
        units.push({ data: normalisedCentroids(pattern), count: pattern.centroids.length });
        unitIndex.set(pattern, u);
      }
      const hk = Math.floor(h / plan.group);
      const key = `${u}:${hk}`;
      let g = groupIndex.get(key);
      if (g === undefined) {
        g = labelGroups.length;
        labelGroups.push({ unit: u, hk });
        groupIndex.set(key, g);
      }
      return { mask: m, kind: KIND_CLUSTER, k: 0, labelGroup: g, unit: u };
    }
    return { mask: m, kind: KIND_STATIC, k: 0, labelGroup: -1, unit: -1 };
  });
  return {
    heads,
    masks,
    units,
    labelGroups,
    anyTopk: heads.some((s) => s.kind === KIND_TOPK),
    anyCluster: heads.some((s) => s.kind === KIND_CLUSTER),
  };
}
