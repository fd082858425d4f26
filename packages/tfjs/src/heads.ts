import { type AttentionPlan, type Pattern, patternKey } from '@sparse/core';

/** Query heads that share one pattern, and how they map onto kv heads. */
export interface HeadGroup {
  pattern: Pattern;
  /** Query heads of the group, increasing; null when it is every head in order. */
  qHeads: number[] | null;
  /** Kv heads read by the group, one per run of `group` query heads; null when it is every kv head in order. */
  kvHeads: number[] | null;
  /** Query heads per kv head inside the group (GQA group size, kept in the query rows, never repeated). */
  group: number;
  heads: number;
}

/**
 * Splits the query heads by pattern. A group whose heads fill each of its kv heads equally keeps GQA as a
 * reshape (query heads folded into the rows of their kv head); otherwise (per-head patterns that split a GQA
 * group unevenly) each query head gets its own copy of its kv head's rows.
 */
export function headGroups(plan: AttentionPlan): HeadGroup[] {
  const { headsQ, headsKv, group, patterns } = plan;
  const byKey = new Map<string, { pattern: Pattern; heads: number[] }>();
  const byObject = new Map<Pattern, string>();
  patterns.forEach((p, h) => {
    let key = byObject.get(p);
    if (key === undefined) byObject.set(p, (key = patternKey(p)));
    const entry = byKey.get(key);
    if (entry) entry.heads.push(h);
    else byKey.set(key, { pattern: p, heads: [h] });
  });
  if (byKey.size === 1) {
    const { pattern } = [...byKey.values()][0]!;
    return [{ pattern, qHeads: null, kvHeads: null, group, heads: headsQ }];
  }
  return [...byKey.values()].map(({ pattern, heads }) => {
    const perKv = new Map<number, number>();
    for (const h of heads) perKv.set(Math.floor(h / group), (perKv.get(Math.floor(h / group)) ?? 0) + 1);
    const sizes = new Set(perKv.values());
    if (sizes.size === 1) {
      const g = [...sizes][0]!;
      const kv = [...perKv.keys()];
      const all = kv.length === headsKv && g === group;
      return { pattern, qHeads: heads, kvHeads: all ? null : kv, group: g, heads: heads.length };
    }
    return { pattern, qHeads: heads, kvHeads: heads.map((h) => Math.floor(h / group)), group: 1, heads: heads.length };
  });
}
