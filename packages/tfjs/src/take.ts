import type { Chunk } from './chunk.js';
import type { TakeMode, Tensor, TF } from './types.js';

/** The take mode and, when set, the one (batch · kv head) row `bh` of axis 0 to read (the rest is dropped). */
export interface Taker {
  mode: TakeMode;
  bh: number | null;
}

/**
 * `slice`: slices (and one gather for scattered lists): memory copies on the cpu backend, whose gather kernels
 * work element by element. `gatherNd`: one gatherND per take, which copies whole blocks on wasm (whose slice
 * copies its entire source to JavaScript first) and is a single pass on GPU backends.
 */
export function takeModeFor(backendName: string): TakeMode {
  return backendName === 'cpu' ? 'slice' : 'gatherNd';
}

/** Most slices take() joins before it falls back to one gather. */
const MAX_RUNS = 16;

function sliceAxis(tf: TF, x: Tensor, axis: number, start: number, len: number): Tensor {
  const rank = x.shape.length;
  const begin = new Array<number>(rank).fill(0);
  const size = new Array<number>(rank).fill(-1);
  begin[axis] = start;
  size[axis] = len;
  return tf.slice(x, begin, size);
}

/**
 * Rows `idx` (per row of axis 0, or [rows][...] when idx is 2-d with `inner` entries per row) of axis 1 of
 * x [BH, N, ...rest] with gatherND: [BH', ...idxShape, ...rest], BH' = 1 when t.bh is set.
 */
function gatherRows(tf: TF, x: Tensor, idx: ArrayLike<number>, idxShape: number[], bh: number | null): Tensor {
  const [BH, N, ...rest] = x.shape as number[];
  const inner = rest.reduce((a, b) => a * b, 1);
  const heads = bh === null ? BH! : 1;
  const flat = new Int32Array(heads * idx.length);
  for (let h = 0; h < heads; h++) {
    const base = (bh ?? h) * N!;
    for (let i = 0; i < idx.length; i++) flat[h * idx.length + i] = base + idx[i]!;
  }
  const indices = tf.tensor(flat, [heads, ...idxShape, 1], 'int32');
  const rows = tf.gatherND(tf.reshape(x, [BH! * N!, inner]), indices);
  return tf.reshape(rows, [heads, ...idxShape, ...rest]);
}

/** x restricted to row t.bh of axis 0 (slice mode), or x itself. */
function forRow(tf: TF, x: Tensor, t: Taker): Tensor {
  return t.bh === null || x.shape[0] === 1 ? x : sliceAxis(tf, x, 0, t.bh, 1);
}

/** x[:, idx] along axis 1 of x [BH, N, ...rest]. */
export function take(tf: TF, x: Tensor, idx: ArrayLike<number>, t: Taker): Tensor {
  const all = idx.length === x.shape[1] && Array.prototype.every.call(idx, (v: number, i: number) => v === i);
  if (all && (t.bh === null || x.shape[0] === 1)) return x;
  if (t.mode === 'gatherNd') return gatherRows(tf, x, idx, [idx.length], t.bh);
  const src = forRow(tf, x, t);
  if (all) return src;
  const runs: [number, number][] = [];
  for (let i = 0; i < idx.length; i++) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === idx[i]) last[1]++;
    else runs.push([idx[i]!, 1]);
  }
  if (runs.length <= MAX_RUNS) {
    const parts = runs.map(([start, len]) => sliceAxis(tf, src, 1, start, len));
    return parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
  }
  return tf.gather(src, tf.tensor1d(Int32Array.from(idx), 'int32'), 1);
}

/**
 * The key-side blocks of a chunk from x [BH, blocks (with margins), bK, ...rest]: [BH', m, cols, ...rest], or
 * [BH', cols, ...rest] for a shared chunk (every row reads the same blocks). Columns come in piece order.
 */
export function takeBlocks(tf: TF, x: Tensor, chunk: Chunk, t: Taker): Tensor {
  const [BH, , bK, ...rest] = x.shape as number[];
  const heads = t.bh === null ? BH! : 1;
  const m = chunk.qBlocks.length;
  const cols = chunk.slots * bK!;
  if (t.mode === 'gatherNd') {
    const shape = chunk.shared ? [chunk.slots] : [m, chunk.slots];
    const blocks = gatherRows(tf, x, chunk.blocks, shape, t.bh); // [heads, (m,) n, bK, ...rest]
    return tf.reshape(blocks, chunk.shared ? [heads, cols, ...rest] : [heads, m, cols, ...rest]);
  }
  const src = forRow(tf, x, t);
  const parts = chunk.pieces.map((p) => {
    if (p.kind === 'gather' && chunk.shared) {
      const g = tf.gather(src, tf.tensor1d(p.idx, 'int32'), 1); // [heads, len, bK, ...]
      return tf.reshape(g, [heads, 1, p.len * bK!, ...rest]);
    }
    if (p.kind === 'gather') {
      const g = tf.gather(src, tf.tensor2d(p.idx, [m, p.len], 'int32'), 1); // [heads, m, len, bK, ...]
      return tf.reshape(g, [heads, m, p.len * bK!, ...rest]);
    }
    if (p.step === 0) {
      const w = tf.reshape(sliceAxis(tf, src, 1, p.start, p.len), [heads, 1, p.len * bK!, ...rest]);
      return chunk.shared || m === 1 ? w : tf.tile(w, [1, m, ...new Array<number>(rest.length + 1).fill(1)]);
    }
    if (p.step === 1 || m === 1) return sliceAxis(tf, src, 1, p.start, m);
    const rank = src.shape.length;
    const begin = new Array<number>(rank).fill(0);
    const end = [...src.shape] as number[];
    const strides = new Array<number>(rank).fill(1);
    begin[1] = p.start;
    end[1] = p.start + p.step * (m - 1) + 1;
    strides[1] = p.step;
    return tf.stridedSlice(src, begin, end, strides);
  });
  const joined = parts.length === 1 ? parts[0]! : tf.concat(parts, 2);
  return chunk.shared ? tf.reshape(joined, [heads, cols, ...rest]) : tf.reshape(joined, [heads, m, cols, ...rest]);
}
