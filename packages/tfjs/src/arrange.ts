import type { Tensor, TF } from './types.js';

/** Pads axis 2 of a rank-4 tensor [a, b, S, d] with `before` zero rows in front and zeros up to `to` rows after. */
function padSeq(tf: TF, x: Tensor, to: number, before = 0): Tensor {
  const after = to - x.shape[2]!;
  if (after === 0 && before === 0) return x;
  if (tf.getBackend() === 'cpu') {
    // The cpu backend pads element by element; a concat with zeros copies whole rows.
    const [a, b, , d] = x.shape as number[];
    const zeros = (n: number) => tf.zeros([a!, b!, n, d!], x.dtype);
    return tf.concat([...(before > 0 ? [zeros(before)] : []), x, ...(after > 0 ? [zeros(after)] : [])], 2);
  }
  return tf.pad(x, [
    [0, 0],
    [0, 0],
    [before, after],
    [0, 0],
  ]);
}

/**
 * q [B, Hq, Sq, D] (bhsd) → [B·Hkv, nQB, G·blockQ, D]: the query rows of block qb of the G query heads that
 * share a kv head stacked into one matrix, so one matMul serves the whole GQA group without repeating k or v.
 */
export function arrangeQueries(tf: TF, q: Tensor, kvHeads: number, group: number, blockQ: number, numQBlocks: number): Tensor {
  const [B, , , D] = q.shape as number[];
  const padded = padSeq(tf, q, numQBlocks * blockQ);
  if (group === 1) return tf.reshape(padded, [B! * kvHeads, numQBlocks, blockQ, D!]);
  const split = tf.reshape(padded, [B! * kvHeads, group, numQBlocks, blockQ * D!]);
  return tf.reshape(tf.transpose(split, [0, 2, 1, 3]), [B! * kvHeads, numQBlocks, group * blockQ, D!]);
}

/** The inverse of arrangeQueries for an output [B·Hkv, nQB, G·blockQ, Dv] → [B, Hkv·G, Sq, Dv]. */
export function unarrangeRows(tf: TF, x: Tensor, batch: number, kvHeads: number, group: number, blockQ: number, seqQ: number): Tensor {
  const [, nQB, , Dv] = x.shape as number[];
  let rows: Tensor;
  if (group === 1) rows = tf.reshape(x, [batch, kvHeads, nQB! * blockQ, Dv!]);
  else {
    const split = tf.reshape(x, [batch * kvHeads, nQB!, group, blockQ * Dv!]);
    rows = tf.reshape(tf.transpose(split, [0, 2, 1, 3]), [batch, kvHeads * group, nQB! * blockQ, Dv!]);
  }
  return nQB! * blockQ === seqQ ? rows : tf.slice(rows, [0, 0, 0, 0], [-1, -1, seqQ, -1]);
}

/** The key rows behind arranged blocks [start, start + blocks) (margin coordinates): keys [from, to), after `before` zero rows. */
export interface KeyWindow {
  from: number;
  to: number;
  before: number;
  /** Rows of the arranged blocks: blocks · blockK. */
  rows: number;
}

export function keyWindow(span: { start: number; blocks: number }, blockK: number, margin: number, seqK: number): KeyWindow {
  const first = span.start - margin; // key block of the first arranged block (negative in the front margin)
  const from = Math.min(seqK, Math.max(0, first) * blockK);
  const to = Math.max(from, Math.min(seqK, (first + span.blocks) * blockK));
  return { from, to, before: Math.min(span.blocks, Math.max(0, -first)) * blockK, rows: span.blocks * blockK };
}

/** Keys [w.from, w.to) of k or v [B, Hkv, Sk, d] (x itself when that is every key). */
export function sliceKeys(tf: TF, x: Tensor, w: KeyWindow): Tensor {
  if (w.from === 0 && w.to === x.shape[2]) return x;
  return tf.slice(x, [0, 0, w.from, 0], [-1, -1, w.to - w.from, -1]);
}

/**
 * Keys of window w (sliceKeys) → [B·Hkv, blocks, blockK, d]: zero-padded to whole blocks, with the empty margin
 * blocks the window covers at either end (padding slots of banded chunks read them; chunk.ts).
 */
export function arrangeKeys(tf: TF, x: Tensor, blockK: number, w: KeyWindow): Tensor {
  const [B, H, S, d] = x.shape as number[];
  const blocks = w.rows / blockK;
  if (S === 0) return tf.zeros([B! * H!, blocks, blockK, d!], x.dtype);
  const padded = padSeq(tf, x, w.rows - w.before, w.before);
  return tf.reshape(padded, [B! * H!, blocks, blockK, d!]);
}
