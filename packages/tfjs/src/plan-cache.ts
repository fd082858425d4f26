import type { BlockMask } from '@sparse/core';
import { type ChunkPlan, type KeySpan, keySpan, tileBank } from './chunk.js';
import { planChunks } from './plan-batched.js';
import { planShared } from './plan-plain.js';

/** Host-side data derived from a compiled mask, cached with it (masks come from a BlockMaskCache). */
export class PlanCache {
  private readonly banks = new WeakMap<BlockMask, Uint8Array>();
  private readonly plans = new WeakMap<BlockMask, Map<string, ChunkPlan>>();
  private readonly spans = new WeakMap<ChunkPlan, KeySpan>();

  bank(mask: BlockMask): Uint8Array {
    let bank = this.banks.get(mask);
    if (!bank) this.banks.set(mask, (bank = tileBank(mask)));
    return bank;
  }

  /** planChunks (batched products) or planShared (plain products, `shared`), cached per mask and sizes. */
  chunks(mask: BlockMask, elementsPerSlot: number, maxElements: number, shared = false, rowsPerBlock = 1): ChunkPlan {
    let byKey = this.plans.get(mask);
    if (!byKey) this.plans.set(mask, (byKey = new Map()));
    const key = `${elementsPerSlot}|${maxElements}|${shared}|${rowsPerBlock}`;
    let plan = byKey.get(key);
    if (!plan) {
      plan = shared ? planShared(mask, rowsPerBlock, maxElements) : planChunks(mask, elementsPerSlot, maxElements);
      if (byKey.size >= 8) byKey.clear();
      byKey.set(key, plan);
    }
    return plan;
  }

  /** The key blocks a plan reads and the plan in coordinates relative to them (keySpan), cached with the plan. */
  span(plan: ChunkPlan): KeySpan {
    let span = this.spans.get(plan);
    if (!span) this.spans.set(plan, (span = keySpan(plan)));
    return span;
  }
}
