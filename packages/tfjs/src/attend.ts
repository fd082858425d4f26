import { type Chunk, type ChunkKeep, type ChunkPlan, chunkKeep } from './chunk.js';
import { sameLabel, topkKeep } from './content.js';
import { select } from './select.js';
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
  /**
   * [BH, margin + nKB + margin, bK, D] and [BH, …, bK, Dv]: the key blocks with empty margins. q, k and v have
   * their non-finite entries replaced by 0: a matrix product spreads a NaN through zero weights, and tf.js webgpu's
   * vectorised product spreads one into neighbouring columns. What they meant is carried by the biases below.
   */
  k: Tensor;
  v: Tensor;
  /** [BH, nQB, G·bQ]: NaN for query rows with a non-finite entry, else 0; added to every score of the row. */
  qBias: Tensor;
  /**
   * [BH, margin + nKB + margin, bK]: NaN for keys whose k row (or, except for top-k, v row) is not finite, else 0;
   * added to the key's scores before masking, so only the rows that attend it see it.
   */
  kBias: Tensor;
  /** Top-k only: [BH, margin + nKB + margin, bK], NaN for keys whose v row is not finite, else 0. */
  vBad: Tensor | null;
  /** Keep bits of the mask's tiles (plan.ts tileBank). */
  bank: Uint8Array;
  /** Mask tensors uploaded during this call (kept across chunk tidies; the caller disposes them). */
  maskTensors: Map<ChunkKeep, DeviceKeep>;
  /** Cluster labels: [BH, nQB, G·bQ] and [BH, margin + nKB + margin, bK] (int32), or null. */
  qLabels: Tensor | null;
  kLabels: Tensor | null;
  /** Top-k count, or 0. */
  topk: number;
  group: number;
  blockQ: number;
  blockK: number;
  returnLse: boolean;
}

/** A chunk's keep bits on the device: keep (bool) and keepF (0/1) [m, rows, cols], hasKey [m, rows, 1], else [m, rows, cols]. */
interface DeviceKeep {
  keep: Tensor;
  keepF: Tensor;
  hasKey: Tensor;
  /** What masked scores become: -Infinity, or 0 in every entry of a row without an allowed key. */
  masked: Tensor;
}

/**
 * Host keep bits per plan, deduplicated by content (the chunks of a band repeat the same few tiles), up to
 * MAX_CACHED bytes per plan; larger ones are rebuilt per call.
 */
const hostMasks = new WeakMap<ChunkPlan, { bytes: number; byKey: Map<string, ChunkKeep> }>();
const MAX_CACHED = 1 << 26;

function hostKeep(x: GroupInputs, plan: ChunkPlan, chunk: Chunk): { data: ChunkKeep; cached: boolean } {
  let cache = hostMasks.get(plan);
  if (!cache) hostMasks.set(plan, (cache = { bytes: 0, byKey: new Map() }));
  const rowsKey = chunk.uniformTiles ? chunk.tiles.subarray(0, chunk.slots) : chunk.tiles;
  const key = `${x.group}|${chunk.qBlocks.length}|${chunk.uniformTiles ? 1 : 0}|${rowsKey.join(',')}`;
  const hit = cache.byKey.get(key);
  if (hit) return { data: hit, cached: true };
  const data = chunkKeep(chunk, x.bank, x.blockQ, x.blockK, x.group);
  const bytes = data.keep.length * 9;
  if (cache.bytes + bytes > MAX_CACHED) return { data, cached: false };
  cache.byKey.set(key, data);
  cache.bytes += bytes;
  return { data, cached: true };
}

function deviceKeep(tf: TF, x: GroupInputs, plan: ChunkPlan, chunk: Chunk): DeviceKeep {
  const { data, cached } = hostKeep(x, plan, chunk);
  const hit = cached ? x.maskTensors.get(data) : undefined;
  if (hit) return hit;
  const [m, rows] = data.shape;
  const keep = tf.tensor3d(data.keep, data.shape, 'bool');
  const made: DeviceKeep = {
    keep,
    keepF: tf.cast(keep, 'float32'),
    hasKey: tf.tensor3d(data.hasKey, [m, rows, 1]),
    masked: tf.add(tf.zeros(data.shape), tf.tensor3d(data.floor, [m, rows, 1])),
  };
  if (cached) {
    for (const t of Object.values(made)) tf.keep(t);
    x.maskTensors.set(data, made);
  }
  return made;
}

/**
 * x where `flag` [..., 1] is 0, -Infinity where it is 1 (a select on per-row tensors: GPU backends evaluate
 * log(0) as a finite number).
 */
function orNegInf(tf: TF, x: Tensor, flag: Tensor): Tensor {
  return tf.where(tf.cast(flag, 'bool'), tf.fill(x.shape, Number.NEGATIVE_INFINITY), x);
}

/** [out] or [out, lse] of one chunk. */
type ChunkResult = Tensor[];

/**
 * One chunk, under the non-finite rule of docs/design.md: masked keys are selected out (never multiplied by a
 * zero weight), a non-finite score or v among a row's attended keys makes its out and lse NaN, a row without an
 * allowed key gets out = 0 and lse = -Infinity.
 */
function runChunk(tf: TF, x: GroupInputs, plan: ChunkPlan, chunk: Chunk, t: Taker): ChunkResult {
  const { blockK } = x;
  const [heads, , rows, D] = x.q.shape as number[];
  const BH = t.bh === null ? heads! : 1;
  const Dv = x.v.shape[3]!;
  const m = chunk.qBlocks.length;
  if (chunk.slots === 0) {
    const out = tf.zeros([BH, m, rows!, Dv]);
    return x.returnLse ? [out, tf.fill([BH, m, rows!], Number.NEGATIVE_INFINITY)] : [out];
  }
  const cols = chunk.slots * blockK;
  const q = take(tf, x.q, chunk.qBlocks, t); // [BH, m, rows, D]
  const k = takeBlocks(tf, x.k, chunk, t);
  const v = takeBlocks(tf, x.v, chunk, t);
  let s: Tensor;
  if (chunk.shared) {
    // One key matrix for every row of the chunk: a single [m·rows, D] × [D, cols] product per (batch, kv head),
    // with k transposed first (tf.js wasm runs a batch-1 product without transposeB on XNNPACK).
    s = tf.matMul(tf.reshape(q, [BH, m * rows!, D!]), tf.transpose(k, [0, 2, 1]));
  } else s = tf.matMul(q, k, false, true); // [BH, m, rows, cols]
  if (x.scoreScale !== 0) s = tf.mul(s, tf.scalar(x.scoreScale));
  s = tf.reshape(s, [BH, m, rows!, cols]);
  const kBias = tf.reshape(takeBlocks(tf, x.kBias, chunk, t), [BH, chunk.shared ? 1 : m, 1, cols]);
  s = tf.add(tf.add(s, tf.expandDims(take(tf, x.qBias, chunk.qBlocks, t), 3)), kBias);
  // Every non-finite score (NaN, ±Infinity from the inputs or from float32 overflow) becomes NaN: s + 0·s.
  const scores = tf.add(s, tf.mul(s, tf.scalar(0)));
  const mask = chunk.masked ? deviceKeep(tf, x, plan, chunk) : null;
  let selected = mask ? select(tf, mask.keep, scores, mask.masked) : scores;
  let hasKey: Tensor | null = mask ? mask.hasKey : null;
  let rowNaN: Tensor | null = null;
  if (x.qLabels && x.kLabels) {
    const ql = take(tf, x.qLabels, chunk.qBlocks, t); // [BH, m, rows]
    const kl = takeBlocks(tf, x.kLabels, chunk, t); // [BH, m, cols] or [BH, cols]
    const same = sameLabel(tf, tf.expandDims(ql, 3), tf.reshape(kl, [BH, chunk.shared ? 1 : m, 1, cols]));
    const keepF = mask ? tf.mul(same, mask.keepF) : same;
    hasKey = tf.max(keepF, 3, true);
    // -Infinity for masked keys; 0 across a row left without keys, so that its softmax stays finite.
    const masked = tf.add(tf.zerosLike(scores), orNegInf(tf, tf.zerosLike(hasKey), hasKey));
    selected = select(tf, tf.cast(keepF, 'bool'), scores, masked);
  }
  if (x.topk > 0) {
    // Every candidate's score counts (the ranking needs them all): tanh maps -Infinity (masked) to -1 and keeps NaN.
    rowNaN = tf.sum(tf.mul(tf.tanh(selected), tf.scalar(0)), 3, true);
    const kept = mask ? tf.mul(topkKeep(tf, selected, x.topk), mask.keepF) : topkKeep(tf, selected, x.topk);
    const vBad = tf.reshape(takeBlocks(tf, x.vBad!, chunk, t), [BH, chunk.shared ? 1 : m, 1, cols]);
    const masked = mask ? mask.masked : tf.fill(selected.shape, Number.NEGATIVE_INFINITY);
    selected = select(tf, tf.cast(kept, 'bool'), tf.add(selected, vBad), masked);
  }
  // tf.softmax is one fused kernel on wasm (XNNPACK) and webgpu, ops on cpu/webgl. A NaN anywhere in a row
  // makes its whole softmax, and so its out, NaN. For the other rows the largest probability is exp(0) / sum, so
  // lse = max - log(max p) needs no second exponential pass.
  const max = tf.max(selected, 3, true); // [BH, m, rows, 1]
  const p = tf.softmax(selected);
  const pv = chunk.shared ? tf.reshape(tf.matMul(tf.reshape(p, [BH, m * rows!, cols]), v), [BH, m, rows!, Dv]) : tf.matMul(p, v);
  let out = hasKey ? tf.mul(pv, hasKey) : pv; // rows without keys: 0 (their softmax is finite)
  if (rowNaN) out = tf.add(out, rowNaN);
  if (!x.returnLse) return [out];
  let lse = tf.sub(max, tf.log(tf.max(p, 3, true)));
  if (hasKey) lse = orNegInf(tf, lse, tf.sub(tf.scalar(1), hasKey)); // -Infinity without keys
  // NaN exactly where out is (out has no NaN in rows whose scores and values are finite).
  lse = tf.add(lse, tf.mul(tf.slice(out, [0, 0, 0, 0], [-1, -1, -1, 1]), tf.scalar(0)));
  return [out, tf.reshape(lse, [BH, m, rows!])];
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
