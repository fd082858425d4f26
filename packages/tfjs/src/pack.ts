import type { AttentionPlan, BlockMask, BlockMaskCache, Pattern } from '@sparse/core';
import { packHeadTable } from '@sparse/core/backend';

/** Query heads that share one compiled mask, and how they map onto kv heads. */
export interface HeadGroup {
  pattern: Pattern;
  mask: BlockMask;
  /** Query heads of the group, increasing; null when it is every head in order. */
  qHeads: number[] | null;
  /** Kv heads read by the group, one per run of `group` query heads; null when it is every kv head in order. */
  kvHeads: number[] | null;
  /** Query heads per kv head inside the group (GQA group size, kept in the query rows, never repeated). */
  group: number;
  heads: number;
}

/**
 * Splits the query heads by their mask in core's head table (heads with equal patterns share one). A group whose
 * heads fill each of its kv heads equally keeps GQA as a reshape (query heads folded into the rows of their kv
 * head); otherwise (per-head patterns that split a GQA group unevenly) each query head gets its own copy of its
 * kv head's rows.
 */
export function headGroups(plan: AttentionPlan, cache: BlockMaskCache, tiles: { blockQ: number; blockK: number }): HeadGroup[] {
  const { headsQ, headsKv, group, patterns } = plan;
  const table = packHeadTable(plan, cache, tiles);
  const byMask = new Map<number, number[]>();
  table.headMask.forEach((m, h) => {
    const heads = byMask.get(m);
    if (heads) heads.push(h);
    else byMask.set(m, [h]);
  });
  if (byMask.size === 1) return [{ pattern: patterns[0]!, mask: table.masks[0]!, qHeads: null, kvHeads: null, group, heads: headsQ }];
  return [...byMask].map(([m, heads]) => {
    const pattern = patterns[heads[0]!]!;
    const mask = table.masks[m]!;
    const perKv = new Map<number, number>();
    for (const h of heads) perKv.set(Math.floor(h / group), (perKv.get(Math.floor(h / group)) ?? 0) + 1);
    const sizes = new Set(perKv.values());
    if (sizes.size === 1) {
      const g = [...sizes][0]!;
      const kv = [...perKv.keys()];
      const all = kv.length === headsKv && g === group;
      return { pattern, mask, qHeads: heads, kvHeads: all ? null : kv, group: g, heads: heads.length };
    }
    return { pattern, mask, qHeads: heads, kvHeads: heads.map((h) => Math.floor(h / group)), group: 1, heads: heads.length };
  });
}
