import { type AttentionPlan, type BlockMaskCache, isSparseAttentionError, type TileOptions } from '@sparse/core';
import type { Refusal } from '@sparse/core/backend';
import type { DeviceContext } from './device.js';
import { clampLimits, DEFAULT_LIMITS, type DeviceLimits } from './limits.js';
import { type Prepared, prepare } from './prepare.js';

/**
 * Plans pieces for a device: the one resource check behind supports(), attention() and attentionResident()
 * (check), and the plan a run uses. The kit checks a piece right before it runs it, so the run reuses what the
 * check prepared for the same plan and limits.
 */
export class Planner {
  private readonly checked = new WeakMap<AttentionPlan, Prepared>();
  /** WebGPU's default limits (what every adapter offers), lowered by options.limits: the limits before a device exists. */
  private readonly defaults: DeviceLimits;

  constructor(
    private readonly cache: BlockMaskCache,
    private readonly tiles: TileOptions,
    limits: Partial<DeviceLimits> | undefined,
  ) {
    this.defaults = clampLimits(DEFAULT_LIMITS, limits);
  }

  plan(plan: AttentionPlan, limits: DeviceLimits): Prepared {
    const hit = this.checked.get(plan);
    if (hit?.limits === limits) return hit;
    return prepare(plan, limits, this.cache, this.tiles);
  }

  /** Why this piece cannot run on the device (its default limits before it exists), or null. */
  check(plan: AttentionPlan, ctx: DeviceContext | null): Refusal | null {
    try {
      this.checked.set(plan, this.plan(plan, ctx?.limits ?? this.defaults));
      return null;
    } catch (e) {
      if (isSparseAttentionError(e) && (e.code === 'RESOURCE_LIMIT' || e.code === 'UNSUPPORTED'))
        return { code: e.code, field: e.field ?? 'request', message: e.message };
      throw e;
    }
  }
}
