import type { AttentionPlan, BlockMask, BlockMaskCache } from '@sparse/core';
import { arrangeKeys, arrangeQueries, keyWindow, sliceKeys, unarrangeRows } from './arrange.js';
import { attendGroup, type GroupInputs } from './attend.js';
import type { ChunkPlan, KeySpan } from './chunk.js';
import { clusterLabels } from './content.js';
import type { TfContext } from './device.js';
import type { TfjsSettings } from './options.js';
import { type HeadGroup, headGroups } from './pack.js';
import type { PlanCache } from './plan-cache.js';
import { select } from './select.js';
import { take, takeModeFor } from './take.js';
import type { TakeMode, Tensor, TF } from './types.js';

/**
 * The tf.js ops of one validated call on tf.Tensors q, k, v (the active tf.js backend's): out (and lse) come back as
 * tensors the caller owns, and nothing else is left behind. Synchronous; memory is proportional to the listed key
 * blocks (O(N·w)), never Sq × Sk. Records what it ran in ctx.last.
 */
export function attendTensors(
  ctx: TfContext,
  settings: TfjsSettings,
  inputs: { q: Tensor; k: Tensor; v: Tensor },
  plan: AttentionPlan,
): { out: Tensor; lse?: Tensor } {
  const { tf } = ctx;
  const backendName = tf.getBackend();
  const takeMode = settings.take ?? takeModeFor(backendName);
  const plain = settings.strategy === 'plain' || (settings.strategy === 'auto' && backendName === 'wasm');
  const s: RunSettings = { ...settings.tiles, maxElements: settings.maxElements, plans: ctx.plans, plain, takeMode };
  const groups = planGroups(ctx, settings, plan, plain);
  let chunks = 0;
  const result = tf.tidy(() => {
    const bshd = plan.layout === 'bshd';
    const toBhsd = (t: Tensor): Tensor => (bshd ? tf.transpose(t, [0, 2, 1, 3]) : t);
    const q = toBhsd(inputs.q);
    const k = toBhsd(inputs.k);
    const v = toBhsd(inputs.v);
    const outs: Tensor[] = [];
    const lses: Tensor[] = [];
    for (const g of groups) {
      const r = runGroup(tf, g, { q, k, v }, plan, s);
      chunks += r.chunks;
      outs.push(r.out);
      if (r.lse) lses.push(r.lse);
    }
    const order = groups.length === 1 ? null : inverseHeads(groups.map((p) => p.group));
    const join = (list: Tensor[]): Tensor => (order ? take(tf, tf.concat(list, 1), order, { mode: takeMode, bh: null }) : list[0]!);
    const out = join(outs);
    const final = bshd ? tf.transpose(out, [0, 2, 1, 3]) : out;
    return plan.returnLse ? [final, join(lses)] : [final];
  });
  ctx.last = { tfBackend: backendName, strategy: plain ? 'plain' : 'batched', take: takeMode, headGroups: groups.length, chunks };
  return plan.returnLse ? { out: result[0]!, lse: result[1]! } : { out: result[0]! };
}

/** A head group, the chunks it runs as and the key blocks they read (the chunk plan relative to them). */
interface GroupPlan {
  group: HeadGroup;
  span: KeySpan;
}

/** Head groups and chunk plans of a call (compiled masks and plans are cached; once started, check() and the call share them). */
function planGroups(caches: { masks: BlockMaskCache; plans: PlanCache }, settings: TfjsSettings, plan: AttentionPlan, plain: boolean): GroupPlan[] {
  const { blockQ, blockK } = settings.tiles;
  return headGroups(plan, caches.masks, settings.tiles).map((g) => {
    const kvHeads = g.heads / g.group;
    const rowsPerBlock = g.group * blockQ;
    const chunks: ChunkPlan = plain
      ? caches.plans.chunks(g.mask, rowsPerBlock * blockK, settings.maxElements, true, rowsPerBlock)
      : caches.plans.chunks(g.mask, plan.batch * kvHeads * rowsPerBlock * blockK, settings.maxElements);
    return { group: g, span: caches.plans.span(chunks) };
  });
}

/** What a call holds beyond its inputs and outputs, in float32 elements, for the heap estimate (check.ts). */
export interface CallWork {
  /** The largest side (k or v) of one head group being cleaned and arranged: its arranged rows × kv heads × batch × its head dim. */
  keyElements: number;
  /** The arranged k and v of every head group (the key blocks its chunks read, margins included). */
  arranged: number;
  /** Scores of the largest chunk, and its k and v blocks. */
  chunkScores: number;
  chunkKeys: number;
}

/** The work of a call as attendTensors would run it on `backendName` (masks compiled and plans made, both cached). */
export function callWork(caches: { masks: BlockMaskCache; plans: PlanCache }, settings: TfjsSettings, plan: AttentionPlan, backendName: string): CallWork {
  const plain = settings.strategy === 'plain' || (settings.strategy === 'auto' && backendName === 'wasm');
  const { blockQ, blockK } = settings.tiles;
  const work: CallWork = { keyElements: 0, arranged: 0, chunkScores: 0, chunkKeys: 0 };
  for (const { group: g, span } of planGroups(caches, settings, plan, plain)) {
    const kvHeads = g.heads / g.group;
    const heads = plain ? 1 : plan.batch * kvHeads; // plain products run one (batch, kv head) at a time
    const rows = span.blocks * blockK * plan.batch * kvHeads;
    work.keyElements = Math.max(work.keyElements, rows * Math.max(plan.headDim, plan.headDimV));
    work.arranged += rows * (plan.headDim + plan.headDimV);
    for (const c of span.plan.chunks) {
      const m = c.qBlocks.length;
      const cols = c.slots * blockK;
      work.chunkScores = Math.max(work.chunkScores, heads * m * g.group * blockQ * cols);
      work.chunkKeys = Math.max(work.chunkKeys, heads * (c.shared ? 1 : m) * cols * (plan.headDim + plan.headDimV));
    }
  }
  return work;
}

interface RunSettings {
  blockQ: number;
  blockK: number;
  maxElements: number;
  plans: PlanCache;
  /** Plain products (one batch-1 product per (batch, kv head)), else batched ones. */
  plain: boolean;
  takeMode: TakeMode;
}

function runGroup(
  tf: TF,
  { group: g, span }: GroupPlan,
  all: { q: Tensor; k: Tensor; v: Tensor },
  plan: AttentionPlan,
  s: RunSettings,
): { out: Tensor; lse: Tensor | null; chunks: number } {
  const { batch, seqQ, scale, returnLse } = plan;
  const pick = (t: Tensor, heads: number[] | null): Tensor => (heads ? take(tf, t, heads, { mode: s.takeMode, bh: null }) : t);
  const q = pick(all.q, g.qHeads);
  const k = pick(all.k, g.kvHeads);
  const v = pick(all.v, g.kvHeads);
  const kvHeads = g.heads / g.group;
  const mask: BlockMask = g.mask;
  // NaN for a row with a non-finite entry, else 0: the row's bias, with the row itself cleaned to zeros.
  const rowBad = (x: Tensor) => tf.sum(tf.mul(x, tf.scalar(0)), 3, true);
  const clean = (x: Tensor) => select(tf, tf.isFinite(x), x, tf.zerosLike(x));
  const arrangedQ = arrangeQueries(tf, q, kvHeads, g.group, s.blockQ, mask.numQBlocks);
  const rawQ = clean(arrangedQ);
  const qBias = rowBad(arrangedQ);
  const bank = s.plans.bank(mask);
  const { plain } = s;
  // Only the key blocks the chunks read are cleaned and arranged (a decode step's window, not the whole cache).
  const chunkPlan = span.plan;
  const window = keyWindow(span, s.blockK, chunkPlan.margin, plan.seqK);
  const blocksOf = (x: Tensor) => arrangeKeys(tf, x, s.blockK, window);
  const topk = g.pattern.kind === 'topk' ? g.pattern.k : 0;
  let qLabels: Tensor | null = null;
  let kLabels: Tensor | null = null;
  if (g.pattern.kind === 'cluster') {
    qLabels = clusterLabels(tf, arrangedQ, g.pattern);
    const labels = blocksOf(tf.expandDims(clusterLabels(tf, sliceKeys(tf, k, window), g.pattern), 3));
    kLabels = tf.reshape(labels, labels.shape.slice(0, 3));
  }
  // Non-finite values stay out of the products (0 · NaN is NaN): q, k and v get 0 there, and the rows and keys
  // they concern are flagged NaN in qBias and kBias (their scores) or, for top-k, where only kept keys' v count,
  // in vBad.
  // Each side in its own tidy: of its key-sized temporaries only the arranged blocks and the per-key flags stay.
  const keySide = (x: Tensor) =>
    tf.tidy(() => {
      const keys = sliceKeys(tf, x, window);
      return { bad: rowBad(keys), blocks: blocksOf(clean(keys)) }; // bad [B, H, keys, 1]: NaN or 0
    }) as { bad: Tensor; blocks: Tensor };
  const kSide = keySide(k);
  const vSide = keySide(v);
  const vBadBlocks = topk ? blocksOf(vSide.bad) : null;
  const kBiasBlocks = blocksOf(topk ? kSide.bad : tf.add(kSide.bad, vSide.bad));
  const inputs: GroupInputs = {
    q: topk ? rawQ : tf.mul(rawQ, tf.scalar(scale)),
    scoreScale: topk ? scale : 0,
    k: kSide.blocks,
    v: vSide.blocks,
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
  return { out, lse, chunks: chunkPlan.chunks.length };
}

/** Position of every query head in the concatenation of the groups' heads. */
function inverseHeads(groups: HeadGroup[]): Int32Array {
  const total = groups.reduce((n, g) => n + g.heads, 0);
  const inv = new Int32Array(total);
  let at = 0;
  for (const g of groups) for (const h of g.qHeads ?? Array.from({ length: g.heads }, (_, i) => i)) inv[h] = at++;
  return inv;
}
