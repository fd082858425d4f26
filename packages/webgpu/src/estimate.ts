import { type AttentionPlan, type BlockMaskCache, planAttentionShapes, residuePartition, shapeOf } from '@sparse/core';
import type { DeviceLimits, TileRequest } from './limits.js';
import { prepare } from './prepare.js';

/**
 * The plans a host call runs: the plan itself or, with dilation by partition (core's residuePartition), one
 * sub-plan per residue group that has keys, shaped as core's runResiduePartition will build them.
 */
export function runPlans(plan: AttentionPlan, partition: boolean): AttentionPlan[] {
  const part = partition ? residuePartition(plan) : null;
  if (!part) return [plan];
  const { layout, batch: B, headsQ, headsKv, headDim, headDimV } = plan;
  return part.groups
    .filter((g) => g.kCount > 0)
    .map((g) =>
      planAttentionShapes({
        q: shapeOf(layout, B, headsQ, g.qCount, headDim),
        k: shapeOf(layout, B, headsKv, g.kCount, headDim),
        v: shapeOf(layout, B, headsKv, g.kCount, headDimV),
        pattern: part.patterns,
        scale: plan.scale,
        queryOffset: g.queryOffset,
        layout,
        returnLse: plan.returnLse,
      }),
    );
}

/**
 * The one resource estimate behind supports() and attention(): prepares every plan the call runs for these limits,
 * so both refuse the same requests with the same RESOURCE_LIMIT sentence, before anything is allocated.
 */
export function estimate(plan: AttentionPlan, partition: boolean, limits: DeviceLimits, cache: BlockMaskCache, tiles: TileRequest): void {
  for (const p of runPlans(plan, partition)) prepare(p, limits, cache, tiles);
}
