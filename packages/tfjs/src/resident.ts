import { type AttentionPlan, BlockMaskCache } from '@sparse/core';
import { fail } from '@sparse/core/backend';
import { arrangeKeys, arrangeQueries, unarrangeRows } from './arrange.js';
import { attendGroup, type GroupInputs } from './attend.js';
import { clusterLabels } from './content.js';
import { type HeadGroup, headGroups } from './heads.js';
import { PlanCache } from './plan-cache.js';
import { select } from './select.js';
import { type TakeMode, take, takeModeFor } from './take.js';
import type { ComputeOptions, SparseAttentionArgs, SparseAttentionOutput, Strategy, Tensor, TF } from './types.js';
import { planResident } from './validate.js';

const sharedMasks = new BlockMaskCache(32);
const sharedPlans = new PlanCache();

export const DEFAULT_BLOCK = 64;
export const DEFAULT_MAX_SCORE_ELEMENTS = 1 << 20;

function checkTile(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 4096) fail('INVALID_ARGUMENT', field, 'must be an integer tile size in [1, 4096]', value);
  return value;
}

/**
 * Sparse attention on tf.Tensors (the resident entry point, docs/resident.md): q, k, v stay on the tf.js backend and
 * out (and lse) come back as tf.Tensors owned by the caller. Safe inside tf.tidy; leaves no other tensor behind.
 * Memory is proportional to the listed key blocks (O(N·w)), never Sq × Sk.
 */
export function sparseAttention(tf: TF, args: SparseAttentionArgs, options: ComputeOptions = {}): SparseAttentionOutput {
  const plan = planResident(args);
  return runPlanned(tf, args, plan, options);
}

/** The tf.js wasm backend's heap is one wasm32 memory: 4 GiB in all, shared by every tensor. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * Refuse before allocating what cannot fit (RESOURCE_LIMIT). On tf.js wasm a call holds its inputs (and bshd transposes),
 * the outputs (and their concatenation) and a few score-sized intermediates per chunk; past the 4 GiB heap, tf.js
 * fails with "memory access out of bounds" in the middle of a call. Other tf.js backends are not bounded this way.
 */
export function checkHeap(backendName: string, plan: AttentionPlan, maxElements = DEFAULT_MAX_SCORE_ELEMENTS): void {
  if (backendName !== 'wasm') return;
  const inputs = plan.batch * (plan.headsQ * plan.seqQ * plan.headDim + plan.headsKv * plan.seqK * (plan.headDim + plan.headDimV));
  const outputs = plan.batch * plan.headsQ * plan.seqQ * (plan.headDimV + 1);
  const copies = plan.layout === 'bshd' ? 2 : 1;
  const bytes = 4 * (copies * inputs + 3 * outputs + 8 * maxElements);
  if (bytes > WASM_HEAP_BYTES) {
    fail(
      'RESOURCE_LIMIT',
      'request',
      `needs about ${(bytes / 2 ** 30).toFixed(2)} GiB of the tf.js wasm heap (4 GiB); split it by batch or heads, or use another tf.js backend`,
      bytes,
    );
  }
}

/** Validates the compute options (INVALID_ARGUMENT naming the option) and fills in the defaults but `take`. */
export function checkComputeOptions(options: ComputeOptions): { blockQ: number; blockK: number; maxElements: number; strategy: Strategy } {
  const blockQ = checkTile(options.blockQ ?? DEFAULT_BLOCK, 'blockQ');
  const blockK = checkTile(options.blockK ?? DEFAULT_BLOCK, 'blockK');
  const maxElements = options.maxScoreElements ?? DEFAULT_MAX_SCORE_ELEMENTS;
  if (!Number.isFinite(maxElements) || maxElements < 1) fail('INVALID_ARGUMENT', 'maxScoreElements', 'must be a positive number', maxElements);
  const strategy = options.strategy ?? 'auto';
  if (strategy !== 'auto' && strategy !== 'batched' && strategy !== 'plain')
    fail('INVALID_ARGUMENT', 'strategy', 'must be "auto", "batched" or "plain"', strategy);
  if (options.take !== undefined && options.take !== 'slice' && options.take !== 'gatherNd')
    fail('INVALID_ARGUMENT', 'take', 'must be "slice" or "gatherNd"', options.take);
  return { blockQ, blockK, maxElements, strategy };
}

/** sparseAttention after validation (the host Backend validates first, then uploads). */
export function runPlanned(tf: TF, args: SparseAttentionArgs, plan: AttentionPlan, options: ComputeOptions = {}): SparseAttentionOutput {
  const { blockQ, blockK, maxElements, strategy } = checkComputeOptions(options);
  checkHeap(tf.getBackend(), plan, maxElements);
  const cache = options.cache ?? sharedMasks;
  const takeMode = options.take ?? takeModeFor(tf.getBackend());
  const result = tf.tidy(() => {
    const bshd = plan.layout === 'bshd';
    const toBhsd = (t: Tensor): Tensor => (bshd ? tf.transpose(t, [0, 2, 1, 3]) : t);
    const q = toBhsd(args.q);
    const k = toBhsd(args.k);
    const v = toBhsd(args.v);
    const groups = headGroups(plan);
    const outs: Tensor[] = [];
    const lses: Tensor[] = [];
    for (const g of groups) {
      const r = runGroup(tf, g, { q, k, v }, plan, { blockQ, blockK, maxElements, cache, strategy, takeMode });
      outs.push(r.out);
      if (r.lse) lses.push(r.lse);
    }
    const order = groups.length === 1 ? null : inverseHeads(groups);
    const join = (list: Tensor[]): Tensor => (order ? take(tf, tf.concat(list, 1), order, { mode: takeMode, bh: null }) : list[0]!);
    const out = join(outs);
    const final = bshd ? tf.transpose(out, [0, 2, 1, 3]) : out;
    return plan.returnLse ? [final, join(lses)] : [final];
  });
  return plan.returnLse ? { out: result[0]!, lse: result[1]! } : { out: result[0]! };
}

interface RunSettings {
  blockQ: number;
  blockK: number;
  maxElements: number;
  cache: BlockMaskCache;
  strategy: Strategy;
  takeMode: TakeMode;
}

function runGroup(tf: TF, g: HeadGroup, all: { q: Tensor; k: Tensor; v: Tensor }, plan: AttentionPlan, s: RunSettings): { out: Tensor; lse: Tensor | null } {
  const { batch, seqQ, seqK, offset, scale, returnLse } = plan;
  const pick = (t: Tensor, heads: number[] | null): Tensor => (heads ? take(tf, t, heads, { mode: s.takeMode, bh: null }) : t);
  const q = pick(all.q, g.qHeads);
  const k = pick(all.k, g.kvHeads);
  const v = pick(all.v, g.kvHeads);
  const kvHeads = g.heads / g.group;
  const mask = s.cache.get(g.pattern, { seqQ, seqK, offset }, { blockQ: s.blockQ, blockK: s.blockK });
  // NaN for a row with a non-finite entry, else 0: the row's bias, with the row itself cleaned to zeros.
  const rowBad = (x: Tensor) => tf.sum(tf.mul(x, tf.scalar(0)), 3, true);
  const clean = (x: Tensor) => select(tf, tf.isFinite(x), x, tf.zerosLike(x));
  const arrangedQ = arrangeQueries(tf, q, kvHeads, g.group, s.blockQ, mask.numQBlocks);
  const rawQ = clean(arrangedQ);
  const qBias = rowBad(arrangedQ);
  const bank = sharedPlans.bank(mask);
  const rowsPerBlock = g.group * s.blockQ;
  const plain = s.strategy === 'plain' || (s.strategy === 'auto' && tf.getBackend() === 'wasm');
  const chunkPlan = plain
    ? sharedPlans.chunks(mask, rowsPerBlock * s.blockK, s.maxElements, true, rowsPerBlock)
    : sharedPlans.chunks(mask, batch * kvHeads * rowsPerBlock * s.blockK, s.maxElements);
  const topk = g.pattern.kind === 'topk' ? g.pattern.k : 0;
  let qLabels: Tensor | null = null;
  let kLabels: Tensor | null = null;
  if (g.pattern.kind === 'cluster') {
    qLabels = clusterLabels(tf, arrangedQ, g.pattern);
    const labels = arrangeKeys(tf, tf.expandDims(clusterLabels(tf, k, g.pattern), 3), s.blockK, mask.numKBlocks, chunkPlan.margin);
    kLabels = tf.reshape(labels, labels.shape.slice(0, 3));
  }
  // Non-finite values stay out of the products (0 · NaN is NaN): q, k and v get 0 there, and the rows and keys
  // they concern are flagged NaN in qBias and kBias (their scores) or, for top-k, where only kept keys' v count,
  // in vBad.
  const vBad = rowBad(v); // [B, H, Sk, 1]: NaN or 0
  const kBad = rowBad(k);
  const blocksOf = (x: Tensor) => arrangeKeys(tf, x, s.blockK, mask.numKBlocks, chunkPlan.margin);
  const vBadBlocks = topk ? blocksOf(vBad) : null;
  const kBiasBlocks = blocksOf(topk ? kBad : tf.add(kBad, vBad));
  const inputs: GroupInputs = {
    q: topk ? rawQ : tf.mul(rawQ, tf.scalar(scale)),
    scoreScale: topk ? scale : 0,
    k: blocksOf(clean(k)),
    v: blocksOf(clean(v)),
    qBias: tf.reshape(qBias, qBias.shape.slice(0, 3)),
    kBias: tf.reshape(kBiasBlocks, kBiasBlocks.shape.slice(0, 3)),
    vBad: vBadBlocks ? tf.reshape(vBadBlocks, vBadBlocks.shape.slice(0, 3)) : null,
    bank,
    maskTensors: new Map(),
    qLabels,
    kLabels,
    topk,
    group: g.group,
    blockQ: s.blockQ,
    blockK: s.blockK,
    returnLse,
  };
  let r: { out: Tensor; lse: Tensor | null };
  try {
    if (!plain) r = attendGroup(tf, inputs, chunkPlan, { mode: s.takeMode, bh: null });
    else {
      // One (batch, kv head) at a time, so that every product has batch 1.
      const BH = batch * kvHeads;
      const parts = Array.from({ length: BH }, (_, bh) => attendGroup(tf, inputs, chunkPlan, { mode: s.takeMode, bh: BH > 1 ? bh : null }));
      r = {
        out: BH > 1 ? tf.concat(parts.map((p) => p.out)) : parts[0]!.out,
        lse: returnLse ? (BH > 1 ? tf.concat(parts.map((p) => p.lse!)) : parts[0]!.lse) : null,
      };
    }
  } finally {
    for (const m of inputs.maskTensors.values()) tf.dispose(Object.values(m));
  }
  const out = unarrangeRows(tf, r.out, batch, kvHeads, g.group, s.blockQ, seqQ);
  const lse = r.lse ? tf.squeeze(unarrangeRows(tf, tf.expandDims(r.lse, 3), batch, kvHeads, g.group, s.blockQ, seqQ), [3]) : null;
  return { out, lse };
}

/** Position of every query head in the concatenation of the groups' heads. */
function inverseHeads(groups: HeadGroup[]): Int32Array {
  const total = groups.reduce((n, g) => n + g.heads, 0);
  const inv = new Int32Array(total);
  let at = 0;
  for (const g of groups) for (const h of g.qHeads ?? Array.from({ length: g.heads }, (_, i) => i)) inv[h] = at++;
  return inv;
}
