import type { AttentionPlan, BlockMaskCache, TileSizes } from '@sparse/core';
import { planAttentionShapes, residueGroupPlans, residuePartition, shapeOf } from '@sparse/core/backend';
import { headSpecs } from './heads.js';
import { labelJobCount, layoutArena, resourceSentence } from './layout.js';
import { MAX_THREADS } from './options.js';
import { CHUNKS_PER_THREAD } from './plan.js';
import { type HeadGroup, headGroups } from './split.js';

export interface EstimateContext {
  cache: BlockMaskCache;
  tiles: TileSizes;
  splitBytes: number;
  partitionDilation: boolean;
  /** The most bytes the memory may hold (4 GiB, or what the runtime let it reserve). */
  limit: number;
}

/** Plan of the sub-call over one (batch, kv-head) group, as split.ts's groupRequest makes it. */
function groupPlan(p: AttentionPlan, g: HeadGroup): AttentionPlan {
  const kv = g.kv1 - g.kv0;
  return planAttentionShapes({
    q: shapeOf(p.layout, 1, kv * p.group, p.seqQ, p.headDim),
    k: shapeOf(p.layout, 1, kv, p.seqK, p.headDim),
    v: shapeOf(p.layout, 1, kv, p.seqK, p.headDimV),
    pattern: p.patterns.slice(g.kv0 * p.group, g.kv1 * p.group),
    scale: p.scale,
    queryOffset: p.offset,
    layout: p.layout,
    returnLse: p.returnLse,
  });
}

/** The plans of the kernel calls attention() makes for `plan`: per residue group (dilation), then per kv-head group. */
function kernelCalls(plan: AttentionPlan, ctx: EstimateContext): AttentionPlan[] {
  const partition = ctx.partitionDilation ? residuePartition(plan) : null;
  const whole = partition ? residueGroupPlans(plan, partition).map((g) => g.plan) : [plan];
  const calls: AttentionPlan[] = [];
  for (const p of whole) {
    const groups = headGroups(p, ctx.splitBytes);
    if (groups.length === 0) calls.push(p);
    // Groups of every batch entry have the same shapes: one per kv-head range.
    else for (const g of groups) if (g.b === 0) calls.push(groupPlan(p, g));
  }
  return calls;
}

/** Chunk-table pairs reserved per phase: at least what any thread count plans (see plan.ts). */
export const chunkPairBound = (p: AttentionPlan) => MAX_THREADS * CHUNKS_PER_THREAD + p.headsQ + 1;

/**
 * The one resource check behind supports() and attention(): the sentence refusing the request when one of the
 * kernel calls it becomes cannot fit the memory even with a single scratch area, else null.
 */
export function resourceRefusal(plan: AttentionPlan, ctx: EstimateContext): string | null {
  for (const p of kernelCalls(plan, ctx)) {
    const specs = headSpecs(p, ctx.cache, ctx.tiles);
    const bound = chunkPairBound(p);
    const { total } = layoutArena({
      plan: p,
      specs,
      tiles: ctx.tiles,
      threads: 1,
      chunkPairs: { prep: bound, topk: bound, attend: bound },
      labelJobs: labelJobCount(p, specs),
      maxBytes: Number.POSITIVE_INFINITY,
    });
    if (total > ctx.limit) return resourceSentence(total, ctx.limit);
  }
  return null;
}
