// Dilation by partition (NATTEN's approach): a dilated pattern only relates tokens of the same residue modulo d,
// so the call splits into d independent calls on strided gathers of the rows, each with the undilated pattern.
// Block-sparse kernels gain from it because a dilated band fills only 1/d of every tile it touches, while the
// undilated band of each group is dense inside the band.
import type { Pattern } from './pattern/types.js';
import type { AttentionPlan } from './request.js';

/** One residue class r: queries i = q0, q0 + d, … (qCount) and keys j = k0, k0 + d, … (kCount). */
export interface ResidueGroup {
  residue: number;
  q0: number;
  qCount: number;
  k0: number;
  kCount: number;
  /** The group's query offset: position p' = i' + queryOffset in the group's key coordinates. */
  queryOffset: number;
}

export interface ResiduePartition {
  dilation: number;
  groups: ResidueGroup[];
  /** One undilated pattern per query head, valid in every group. */
  patterns: Pattern[];
}

const mod = (x: number, d: number) => ((x % d) + d) % d;

/** The pattern a head runs with inside every group, or null when the head does not split by residue modulo d. */
function undilated(p: Pattern): { dilation: number; pattern: Pattern } | null {
  if (p.kind === 'dilated' && p.dilation >= 2) {
    const local: Pattern = { kind: 'local' };
    if (p.left !== undefined) local.left = p.left;
    if (p.right !== undefined) local.right = p.right;
    return { dilation: p.dilation, pattern: local };
  }
  if (p.kind === 'neighborhood' && (p.dilation ?? 1) >= 2) {
    const n: Pattern = { kind: 'neighborhood', kernel: p.kernel };
    if (p.causal !== undefined) n.causal = p.causal;
    return { dilation: p.dilation!, pattern: n };
  }
  return null;
}

/**
 * The residue partition of a validated request, or null when it does not apply: every query head must use a
 * `dilated` or `neighborhood` pattern (not inside a union or other composition) with one common dilation d >= 2.
 * A dilated head allows (i, j) iff δ = p - j is a multiple of d and -R·d <= δ <= L·d, so p and j share
 * the residue r; inside that group, with p = r + d·p' and j = r + d·j', the rule is -R <= p' - j' <= L: `local`.
 * A neighborhood head with dilation d is, by its definition, the undilated neighborhood inside each group.
 */
export function residuePartition(plan: AttentionPlan): ResiduePartition | null {
  // Heads that share a pattern object share its undilated one too (backends compile one mask per distinct pattern).
  const memo = new Map<Pattern, ReturnType<typeof undilated>>();
  const parts = plan.patterns.map((p) => {
    if (!memo.has(p)) memo.set(p, undilated(p));
    return memo.get(p)!;
  });
  const d = parts[0]?.dilation;
  if (d === undefined || parts.some((x) => x === null || x.dilation !== d)) return null;
  // Only residues some query has: at most min(d, Sq) groups, found in O(min(d, Sq)) however large d is.
  const groups: ResidueGroup[] = [];
  for (let q0 = 0; q0 < Math.min(d, plan.seqQ); q0++) {
    const r = mod(q0 + plan.offset, d);
    const qCount = Math.floor((plan.seqQ - 1 - q0) / d) + 1;
    const kCount = r < plan.seqK ? Math.floor((plan.seqK - 1 - r) / d) + 1 : 0;
    groups.push({ residue: r, q0, qCount, k0: r, kCount, queryOffset: (q0 + plan.offset - r) / d });
  }
  groups.sort((a, b) => a.residue - b.residue);
  return { dilation: d, groups, patterns: parts.map((x) => x!.pattern) };
}
