// Dilation by partition (NATTEN's approach): a dilated pattern only relates tokens of the same residue modulo d,
// so the call splits into d independent calls on strided gathers of the rows, each with the undilated pattern.
// Block-sparse kernels gain from it because a dilated band fills only 1/d of every tile it touches, while the
// undilated band of each group is dense inside the band.
import type { Pattern } from './pattern/types.js';
import { type AttentionPlan, type AttentionRequest, type AttentionResult, planAttentionShapes } from './request.js';
import { type HostTensor, type Layout, shapeOf } from './tensor.js';

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

/**
 * The plan of every residue group that has keys, exactly as runResiduePartition runs it: what a backend sizes in
 * supports() and attention() before any group runs.
 */
export function residueGroupPlans(plan: AttentionPlan, partition: ResiduePartition): { group: ResidueGroup; plan: AttentionPlan }[] {
  const { layout, batch: B, headsQ, headsKv, headDim, headDimV } = plan;
  return partition.groups
    .filter((g) => g.kCount > 0)
    .map((group) => ({
      group,
      plan: planAttentionShapes({
        q: shapeOf(layout, B, headsQ, group.qCount, headDim),
        k: shapeOf(layout, B, headsKv, group.kCount, headDim),
        v: shapeOf(layout, B, headsKv, group.kCount, headDimV),
        pattern: partition.patterns,
        scale: plan.scale,
        queryOffset: group.queryOffset,
        layout,
        returnLse: plan.returnLse,
      }),
    }));
}

/** Copies `count` runs of `len` floats, from src at from, from + srcStep, … to dst at to, to + dstStep, …. */
function copyRuns(src: Float32Array, from: number, srcStep: number, dst: Float32Array, to: number, dstStep: number, count: number, len: number) {
  // subarray().set() per run: measured faster than an element loop even for runs of 64 floats.
  for (let n = 0; n < count; n++, from += srcStep, to += dstStep) dst.set(src.subarray(from, from + len), to);
}

/** Rows start, start + stride, … (count of them) along the sequence axis of a [B, H, S, D] tensor in `layout`. */
export function gatherRows(t: HostTensor, layout: Layout, start: number, stride: number, count: number): HostTensor {
  const [B, H, S, D] = layout === 'bhsd' ? t.shape : [t.shape[0]!, t.shape[2]!, t.shape[1]!, t.shape[3]!];
  const out = new Float32Array(B! * H! * count * D!);
  // bhsd: rows of D per (batch, head); bshd: one sequence position of every head (H·D) is contiguous.
  const [outer, len] = layout === 'bhsd' ? [B! * H!, D!] : [B!, H! * D!];
  for (let o = 0; o < outer; o++) copyRuns(t.data, (o * S! + start) * len, stride * len, out, o * count * len, len, count, len);
  return { data: out, shape: shapeOf(layout, B!, H!, count, D!) };
}

/** Writes the rows of `part` ([B, H, count, D]) to rows start, start + stride, … of `into` ([B, H, S, D]). */
function scatterRows(
  part: Float32Array,
  into: Float32Array,
  layout: Layout,
  B: number,
  H: number,
  S: number,
  D: number,
  start: number,
  stride: number,
  count: number,
) {
  const [outer, len] = layout === 'bhsd' ? [B * H, D] : [B, H * D];
  for (let o = 0; o < outer; o++) copyRuns(part, o * count * len, len, into, (o * S + start) * len, stride * len, count, len);
}

/**
 * Runs a partitioned request: for every residue group, `run` gets a sub-request on the gathered rows with the
 * undilated patterns, and its out and lse are scattered back. Query rows of a group without keys keep out = 0
 * and lse = -Infinity. Groups run one after another (each call may use the whole machine).
 */
export async function runResiduePartition(
  request: AttentionRequest,
  plan: AttentionPlan,
  partition: ResiduePartition,
  run: (sub: AttentionRequest, subPlan: AttentionPlan) => Promise<AttentionResult>,
): Promise<AttentionResult> {
  const { batch: B, headsQ: Hq, seqQ: Sq, headDimV: Dv, layout } = plan;
  const out = new Float32Array(B * Hq * Sq * Dv);
  const lse = plan.returnLse ? new Float32Array(B * Hq * Sq).fill(Number.NEGATIVE_INFINITY) : null;
  const d = partition.dilation;
  // Every group's rows are gathered before the first await: the inputs are the caller's again once this returns.
  const subs = residueGroupPlans(plan, partition).map(({ group: g, plan: subPlan }) => {
    const sub: AttentionRequest = {
      q: gatherRows(request.q, layout, g.q0, d, g.qCount),
      k: gatherRows(request.k, layout, g.k0, d, g.kCount),
      v: gatherRows(request.v, layout, g.k0, d, g.kCount),
      pattern: subPlan.patterns,
      scale: plan.scale,
      queryOffset: g.queryOffset,
      layout,
      returnLse: plan.returnLse,
    };
    return { g, sub, subPlan };
  });
  for (const { g, sub, subPlan } of subs) {
    const r = await run(sub, subPlan);
    scatterRows(r.out.data, out, layout, B, Hq, Sq, Dv, g.q0, d, g.qCount);
    // lse is [B, Hq, S] whatever the layout: the bhsd scatter with D = 1.
    if (lse && r.lse) scatterRows(r.lse.data, lse, 'bhsd', B, Hq, Sq, 1, g.q0, d, g.qCount);
  }
  const result: AttentionResult = { out: { data: out, shape: shapeOf(layout, B, Hq, Sq, Dv) } };
  if (lse) result.lse = { data: lse, shape: [B, Hq, Sq] };
  return result;
}

/**
 * What a backend calls: `run` on the whole request, or, when `enabled` and every head is dilated with one
 * dilation (residuePartition), on each residue group, with the outputs scattered back. `run` gets each request
 * with its validated plan.
 */
export function attendByResidue(
  request: AttentionRequest,
  plan: AttentionPlan,
  enabled: boolean,
  run: (request: AttentionRequest, plan: AttentionPlan) => Promise<AttentionResult>,
): Promise<AttentionResult> {
  const partition = enabled ? residuePartition(plan) : null;
  return partition ? runResiduePartition(request, plan, partition, run) : run(request, plan);
}
