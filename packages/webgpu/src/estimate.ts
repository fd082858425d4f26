import type { AttentionPlan, BlockMaskCache } from '@sparse/core';
import { residueGroupPlans, residuePartition } from '@sparse/core/backend';
import type { DeviceLimits, TileRequest } from './limits.js';
import { prepare } from './prepare.js';

/**
 * The plans a host call runs: the plan itself or, with dilation by partition (core's residuePartition), one
 * sub-plan per residue group that has keys, shaped as core's runResiduePartition will build them.
 */
export function runPlans(plan: AttentionPlan, partition: boolean): AttentionPlan[] {
  const part = partition ? residuePartition(plan) : null;
  return part ? residueGroupPlans(plan, part).map((g) => g.plan) : [plan];
}

/**
 * The one resource estimate behind supports() and attention(): prepares every plan the call runs for these limits,
 * so both refuse the same requests with the same RESOURCE_LIMIT sentence, before anything is allocated.
 */
export function estimate(plan: AttentionPlan, partition: boolean, limits: DeviceLimits, cache: BlockMaskCache, tiles: TileRequest): void {
  for (const p of runPlans(plan, partition)) prepare(p, limits, cache, tiles);
}
