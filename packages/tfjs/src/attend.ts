import { type Chunk, type ChunkPlan, chunkMask } from './chunk.js';
import { keepOrMask, sameLabel, topkMask } from './content.js';
import { type Taker, take, takeBlocks } from './take.js';
import type { Tensor, TF } from './types.js';

/** One head group's inputs, arranged by arrange.ts, plus what the chunks need. */
export interface GroupInputs {
  /** [BH, nQB, G·bQ, D], already multiplied by the scale unless `scoreScale` is set. */
  q: Tensor;
  /**
   * Scale applied to the scores instead of q (top-k: equal dot products must give equal scores, so ties stay
   * ties as in the reference), or 0.
   */
  scoreScale: number;
  /** [BH, margin + nKB + margin, bK, D] and [BH, …, bK, Dv]: the key blocks with empty margins. */
  k: Tensor;
  v: Tensor;
  /** Keep bits of the mask's tiles (plan.ts tileBank). */
  bank: Uint8Array;
  /** Mask tensors uploaded during this call (kept across chunk tidies; the caller disposes them). */
  maskTensors: Map<Float32Array, Tensor>;
  /** Cluster labels: [BH, nQB, G·bQ] and [BH, margin + nKB + margin, bK] (int32), or null. */
  qLabels: Tensor | null;
  kLabels: Tensor | null;
  /** Top-k count, or 0. */
  topk: number;
  group: number;
  blockQ: number;
  blockK: number;
  /** The mask value: large, finite in the backend's float precision. */
  big: number;
  returnLse: boolean;
}

/**
 * Host masks per plan, deduplicated by content (the chunks of a band repeat the same few tiles), up to
 * MAX_CACHED floats per plan; larger ones are rebuilt per call.
 */
const hostMasks = new WeakMap<ChunkPlan, { floats: number; byKey: Map<string, Float32Array> }>();
const MAX_CACHED = 1 << 24;

function maskData(x: GroupInputs, plan: ChunkPlan, chunk: Chunk): { data: Float32Array; cached: boolean } {
  let cache = hostMasks.get(plan);
  if (!cache) hostMasks.set(plan, (cache = { floats: 0, byKey: new Map() }));
  const rowsKey = chunk.uniformTiles ? chunk.tiles.subarray(0, chunk.slots) : chunk.tiles;
  const key = `${x.big}|${chunk.uniformTiles ? 1 : chunk.qBlocks.length}|${rowsKey.join(',')}`;
  const hit = cache.byKey.get(key);
  if (hit) return { data: hit, cached: true };
  const data = chunkMask(chunk, x.bank, x.blockQ, x.blockK, x.big);
  if (cache.floats + data.length > MAX_CACHED) return { data, cached: false };
  cache.byKey.set(key, data);
  cache.floats += data.length;
  return { data, cached: true };
}

/** [out] or [out, lse] of one chunk. */
type ChunkResult = Tensor[];

function runChunk(tf: TF, x: GroupInputs, plan: ChunkPlan, chunk: Chunk, t: Taker): ChunkResult {
  const { group, blockQ, blockK, big } = x;
  const [heads, , rows, D] = x.q.shape as number[];
  const BH = t.bh === null ? heads : 1;
  const Dv = x.v.shape[3]!;
  const m = chunk.qBlocks.length;
  if (chunk.slots === 0) {
    const out = tf.zeros([BH!, m, rows!, Dv]);
    return x.returnLse ? [out, tf.fill([BH!, m, rows!], Number.NEGATIVE_INFINITY)] : [out];
  }
  const cols = chunk.slots * blockK;
  const q = take(tf, x.q, chunk.qBlocks, t); // [BH, m, rows, D]
  const k = takeBlocks(tf, x.k, chunk, t);
  const v = takeBlocks(tf, x.v, chunk, t);
  let s: Tensor;
  if (chunk.shared) {
    // One key matrix for every row of the chunk: a single [m·rows, D] × [D, cols] product per (batch, kv head),
    // with k transposed first (tf.js wasm runs a batch-1 product without transposeB on XNNPACK).
    s = tf.matMul(tf.reshape(q, [BH!, m * rows!, D!]), tf.transpose(k, [0, 2, 1]));
  } else s = tf.matMul(q, k, false, true); // [BH, m, rows, cols]
  if (x.scoreScale !== 0) s = tf.mul(s, tf.scalar(x.scoreScale));
  if (chunk.masked) {
    const { data, cached } = maskData(x, plan, chunk);
    const upload = () => tf.tensor3d(data, [data.length / (blockQ * cols), 1, blockQ * cols]);
    let addT = cached ? x.maskTensors.get(data) : undefined;
    if (!addT) addT = cached ? tf.keep(upload()) : upload();
    if (cached) x.maskTensors.set(data, addT);
    s = tf.add(tf.reshape(s, [BH!, m, group, blockQ * cols]), addT);
  }
  s = tf.reshape(s, [BH!, m, rows!, cols]);
  if (x.qLabels && x.kLabels) {
    const ql = take(tf, x.qLabels, chunk.qBlocks, t); // [BH, m, rows]
    const kl = takeBlocks(tf, x.kLabels, chunk, t); // [BH, m, cols] or [BH, cols]
    const klb = tf.reshape(kl, [BH!, chunk.shared ? 1 : m, 1, cols]);
    s = keepOrMask(tf, s, sameLabel(tf, tf.expandDims(ql, 3), klb), big);
  }
  if (x.topk > 0) s = topkMask(tf, s, x.topk, big);
  // tf.softmax is one fused kernel on wasm (XNNPACK) and webgpu, ops on cpu/webgl. The row maximum flags the rows
  // with no allowed key (max ≈ -big: every entry masked), which get out = 0 and lse = -Infinity; for the others
  // the largest probability is exp(0) / sum, so lse = max - log(max p) needs no second exponential pass.
  const max = tf.max(s, 3, true); // [BH, m, rows, 1]
  const p = tf.softmax(s);
  const pv = chunk.shared ? tf.reshape(tf.matMul(tf.reshape(p, [BH!, m * rows!, cols]), v), [BH!, m, rows!, Dv]) : tf.matMul(p, v); // [BH, m, rows, Dv]
  const valid = tf.greater(max, tf.scalar(-big / 2));
  const out = tf.mul(pv, tf.cast(valid, 'float32'));
  if (!x.returnLse) return [out];
  const lse = tf.where(valid, tf.sub(max, tf.log(tf.max(p, 3, true))), tf.scalar(Number.NEGATIVE_INFINITY));
  return [out, tf.reshape(lse, [BH!, m, rows!])];
}

/**
 * Runs every chunk of a head group (for every row of axis 0, or only row t.bh), each in its own tidy so its
 * score-sized temporaries are freed before the next, and puts the query blocks back in order:
 * out [BH, nQB, G·bQ, Dv], lse [BH, nQB, G·bQ] (BH = 1 with t.bh).
 */
export function attendGroup(tf: TF, x: GroupInputs, plan: ChunkPlan, t: Taker): { out: Tensor; lse: Tensor | null } {
  const parts = plan.chunks.map((chunk) => tf.tidy(() => runChunk(tf, x, plan, chunk, t)));
  const inv = plan.order ? inverse(plan.order) : null;
  const join = (list: Tensor[]): Tensor => {
    const all = list.length === 1 ? list[0]! : tf.concat(list, 1);
    return inv ? take(tf, all, inv, { mode: t.mode, bh: null }) : all;
  };
  const out = join(parts.map((p) => p[0]!));
  const lse = x.returnLse ? join(parts.map((p) => p[1]!)) : null;
  return { out, lse };
}

function inverse(order: Int32Array): Int32Array {
  const inv = new Int32Array(order.length);
  order.forEach((qb, at) => {
    inv[qb] = at;
  });
  return inv;
}
