// The three phases of a call, each a loop that takes chunks of tasks from a shared counter until none is left:
//   prep   — K transposed per key block (Kt), non-finite v rows zeroed and flagged, cluster labels (query rows, key rows);
//   topk   — per query row of a top-k head, the threshold and tie cut over the keys its `within` allows;
//   attend — the fused kernel: per (head, batch, query block) task, listed key blocks only, online softmax.
// The phases are numbered by PHASE_* (src/abi.ts, shared with the host); a query head's row in the head table is
// read through the generated HEAD_* constants (core's layout), and its offsets through headArray().
import {
  C_ABORT,
  C_ATT_CHUNKS,
  C_ATT_N,
  C_B,
  C_BITS,
  C_BK,
  C_BQ,
  C_COL_IDX,
  C_COUNTERS,
  C_D,
  C_DV,
  C_DVA,
  C_GROUP,
  C_HEAD_PACK,
  C_HEADS,
  C_HKV,
  C_HQ,
  C_K,
  C_K_ROW,
  C_KT,
  C_KT_BLOCKS,
  C_LABEL_K,
  C_LABELQ,
  C_LJOBS,
  C_MAXCOLS,
  C_ML,
  C_NEXT,
  C_NKB,
  C_NQB,
  C_NSCRATCH,
  C_O,
  C_O_HEAD,
  C_O_ROW,
  C_PARTIAL_IDX,
  C_PARTIALS,
  C_PREP_CHUNKS,
  C_PREP_N,
  C_PREP_NT,
  C_Q,
  C_Q_HEAD,
  C_Q_ROW,
  C_QSCALE,
  C_RES_BLOCKS,
  C_RES_KT,
  C_RES_VBAD,
  C_RES_VBAD_BLOCK,
  C_RES_VT,
  C_RESIDUES,
  C_ROW_PTR,
  C_SC_ACC,
  C_SC_CAND,
  C_SC_CORR,
  C_SC_L,
  C_SC_M,
  C_SC_QP,
  C_SC_S,
  C_SC_SEL,
  C_SC_TASK,
  C_SCALE,
  C_SCRATCH,
  C_SCRATCH_STRIDE,
  C_SK,
  C_SPLIT_DONE,
  C_SPLITS,
  C_SQ,
  C_THR,
  C_TIE,
  C_TOPK_CHUNKS,
  C_TOPK_N,
  C_V,
  C_V_ROW,
  C_V_TILED,
  C_VBAD,
  C_VBAD_BLOCK,
  C_WPR,
  LJ_C,
  LJ_DST,
  LJ_ROWS,
  LJ_SLOTS,
  LJ_SRC,
  LJ_STRIDE,
  LJ_UNIT,
  PHASE_ATTEND,
  PHASE_PREP,
  PHASE_TOPK,
  RC_ABORTED,
  RC_DONE,
  RC_MORE,
  RUN_KEYS,
  SPLIT_HEAD,
} from '../src/abi';
import { HEAD_BITS, HEAD_COL_IDX, HEAD_LABELS, HEAD_MODE, HEAD_PARAM, HEAD_ROW_PTR, HEAD_WORDS, MODE_CLUSTER, MODE_TOPK } from './head-table';
import { selectKth } from './select';
import { applyBadV, applyBits, applyCluster, applyTopk, exp2v, LOG2E, maskTail, softmaxGroup } from './softmax';
import { packQ, pvGroup, pvTiles, scoreGroup } from './tile';
import { transposeChunk } from './transpose';

/** An integer slot of the call context (sizes, strides, counts). */
function ctxInt(ctx: usize, slot: i32): i32 {
  return load<i32>(ctx + ((<usize>slot) << 2));
}

/** A byte-pointer slot of the call context. */
function ctxPtr(ctx: usize, slot: i32): usize {
  return <usize>load<u32>(ctx + ((<usize>slot) << 2));
}

/**
 * Byte address of row `row` of head h, batch entry b of a request tensor: its context slots are the pointer at
 * `slot`, then its row, head and batch strides in elements (C_Q, C_K, C_V, C_O; see setTensor).
 */
function tensorRow(ctx: usize, slot: i32, b: i32, h: i32, row: i32): usize {
  return (
    ctxPtr(ctx, slot) + ((<usize>b * <usize>ctxInt(ctx, slot + 3) + <usize>h * <usize>ctxInt(ctx, slot + 2) + <usize>row * <usize>ctxInt(ctx, slot + 1)) << 2)
  );
}

/** A field of a head's row in the head table (HEAD_ROW_PTR, HEAD_MODE, …). */
function headField(headRow: usize, field: i32): i32 {
  return load<i32>(headRow + ((<usize>field) << 2));
}

/** Byte pointer of a head's part of a concatenated mask array: the array's base slot plus the head's offset field. */
function headArray(ctx: usize, headRow: usize, baseSlot: i32, field: i32): usize {
  return ctxPtr(ctx, baseSlot) + ((<usize>headField(headRow, field)) << 2);
}

/** Adds 1 to an i32 counter shared by the workers; returns the value before. */
function takeChunk(counter: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(counter, 1);
  const c = load<i32>(counter);
  store<i32>(counter, c + 1);
  return c;
}

function isAborted(flag: usize): bool {
  if (ASC_FEATURE_THREADS) return atomic.load<i32>(flag) !== 0;
  return load<i32>(flag) !== 0;
}

/** Runs chunks of `phase` (a PHASE_*) until none is left, aborted, or maxChunks were taken. */
function drive(ctx: usize, wid: i32, phase: i32, maxChunks: i32): i32 {
  // Threads past the scratch areas the memory could hold take no work (the others take it all).
  if (wid >= ctxInt(ctx, C_NSCRATCH)) return RC_DONE;
  const counter = ctxPtr(ctx, C_COUNTERS) + ((<usize>phase) << 2);
  const flag = ctxPtr(ctx, C_ABORT);
  const tableSlot = phase === PHASE_PREP ? C_PREP_CHUNKS : phase === PHASE_TOPK ? C_TOPK_CHUNKS : C_ATT_CHUNKS;
  const countSlot = phase === PHASE_PREP ? C_PREP_N : phase === PHASE_TOPK ? C_TOPK_N : C_ATT_N;
  const table = ctxPtr(ctx, tableSlot);
  const n = ctxInt(ctx, countSlot);
  const scratch = ctxPtr(ctx, C_SCRATCH) + <usize>wid * ctxPtr(ctx, C_SCRATCH_STRIDE);
  const task = changetype<Task>(scratch + ctxPtr(ctx, C_SC_TASK));
  const splits = ctxInt(ctx, C_SPLITS);
  for (let taken = 0; taken < maxChunks; taken++) {
    if (isAborted(flag)) return RC_ABORTED;
    const ch = takeChunk(counter);
    if (ch >= n) return RC_DONE;
    const t0 = load<i32>(table + ((<usize>ch) << 3));
    const t1 = load<i32>(table + ((<usize>ch) << 3), 4);
    for (let t = t0; t < t1; t++) {
      if (phase === PHASE_PREP) prepTask(ctx, t);
      else if (phase === PHASE_TOPK) topkTask(ctx, locateTask(ctx, t, task), scratch);
      else attendTask(ctx, locateTask(ctx, t / splits, task), scratch, t % splits);
    }
  }
  return RC_MORE;
}

export function prep(ctx: usize, wid: i32, maxChunks: i32): i32 {
  return driveChain(ctx, wid, PHASE_PREP, maxChunks);
}

export function topk(ctx: usize, wid: i32, maxChunks: i32): i32 {
  return driveChain(ctx, wid, PHASE_TOPK, maxChunks);
}

export function attend(ctx: usize, wid: i32, maxChunks: i32): i32 {
  return driveChain(ctx, wid, PHASE_ATTEND, maxChunks);
}

/**
 * drive() over the chain of contexts from ctx (C_NEXT): a thread that finds one context's chunks all taken moves on
 * to the next. A later call (the calling thread's slices) walks the finished ones again, finding them done at once.
 */
function driveChain(ctx: usize, wid: i32, phase: i32, maxChunks: i32): i32 {
  for (let c = ctx; c !== 0; c = ctxPtr(c, C_NEXT)) {
    const rc = drive(c, wid, phase, maxChunks);
    if (rc !== RC_DONE) return rc;
  }
  return RC_DONE;
}

// ---------------------------------------------------------------------------------------------------------
// prep

function prepTask(ctx: usize, t: i32): void {
  if (ctxInt(ctx, C_RESIDUES) > 0) {
    residueTask(ctx, t);
    return;
  }
  const nt = ctxInt(ctx, C_PREP_NT);
  if (t < nt) transposeTask(ctx, t);
  else labelJob(ctxPtr(ctx, C_LJOBS) + <usize>(t - nt) * (LJ_SLOTS << 2), ctxInt(ctx, C_D));
}

/**
 * Kt block (b, hk, kb): keys j0 .. j0 + bk in chunks of eight, each chunk [D][8] (key c of the chunk at lane
 * c), zero past Sk. One chunk feeds scoreGroup with a single pointer and immediate offsets. Then the block's v rows:
 * see flagBadV.
 */
function transposeTask(ctx: usize, t: i32): void {
  const nkb = ctxInt(ctx, C_NKB);
  const hkv = ctxInt(ctx, C_HKV);
  const bk = ctxInt(ctx, C_BK);
  const D = ctxInt(ctx, C_D);
  const Sk = ctxInt(ctx, C_SK);
  const kb = t % nkb;
  const bh = t / nkb;
  const b = bh / hkv;
  const hk = bh % hkv;
  const j0 = kb * bk;
  const width = min(bk, Sk - j0);
  const krow = (<usize>ctxInt(ctx, C_K_ROW)) << 2;
  const src = tensorRow(ctx, C_K, b, hk, j0);
  const dst = ctxPtr(ctx, C_KT) + <usize>t * ((<usize>D * <usize>bk) << 2);
  const chunkBytes = (<usize>D) << 5;
  for (let c = 0; c < bk; c += 8) transposeChunk(src + <usize>c * krow, krow, min(8, max(0, width - c)), D, dst + <usize>(c >> 3) * chunkBytes);
  flagBadV(ctx, t, b, hk, j0, width);
}

/**
 * Residue prep task t = (b · Hkv + hk) · C_RES_BLOCKS + kb (see C_RESIDUES): key block kb of every residue group,
 * from the d · bk consecutive rows j = (kb · bk + c) · d + r of the whole K and V (one stretch of memory: K read
 * group by group in chunks of eight rows d apart, V in order). Each group gets
 * its Kᵀ block ([bk/8][D][8]), its V tile ([Dv8/8][bk][8], zeros for a non-finite row) and its flags; keys past Sk
 * are zeros.
 */
function residueTask(ctx: usize, t: i32): void {
  const d = ctxInt(ctx, C_RESIDUES);
  const nkb = ctxInt(ctx, C_RES_BLOCKS);
  const hkv = ctxInt(ctx, C_HKV);
  const bk = ctxInt(ctx, C_BK);
  const D = ctxInt(ctx, C_D);
  const Dv = ctxInt(ctx, C_DV);
  const Dv8 = (Dv + 7) & ~7;
  const Sk = ctxInt(ctx, C_SK);
  const kb = t % nkb;
  const bh = t / nkb;
  const b = bh / hkv;
  const hk = bh % hkv;
  const groupBlocks = <usize>ctxInt(ctx, C_B) * <usize>hkv * <usize>nkb;
  const block = <usize>bh * <usize>nkb + <usize>kb;
  const ktBytes = (<usize>D * <usize>bk) << 2;
  const vtBytes = (<usize>Dv8 * <usize>bk) << 2;
  const krow = (<usize>ctxInt(ctx, C_K_ROW)) << 2;
  const vrow = (<usize>ctxInt(ctx, C_V_ROW)) << 2;
  const kBase = tensorRow(ctx, C_K, b, hk, 0);
  const vBase = tensorRow(ctx, C_V, b, hk, 0);
  const chunkBytes = (<usize>D) << 5;
  const sliceBytes = (<usize>bk) << 5;
  const zero = f32x4.splat(0);
  for (let r = 0; r < d; r++) {
    const g = <usize>r * groupBlocks + block;
    store<i32>(ctxPtr(ctx, C_RES_VBAD_BLOCK) + (g << 2), 0);
  }
  // Group r's keys of the block are rows (kb · bk + c) · d + r: a chunk of eight is eight rows d rows apart.
  for (let r = 0; r < d; r++) {
    const kt = ctxPtr(ctx, C_RES_KT) + (<usize>r * groupBlocks + block) * ktBytes;
    for (let c = 0; c < bk; c += 8) {
      const j = (kb * bk + c) * d + r;
      // Keys c + i with (kb · bk + c + i) · d + r < Sk.
      const n = j >= Sk ? 0 : min(8, (Sk - 1 - j) / d + 1);
      transposeChunk(kBase + <usize>j * krow, <usize>d * krow, n, D, kt + <usize>(c >> 3) * chunkBytes);
    }
  }
  for (let c = 0; c < bk; c++) {
    for (let r = 0; r < d; r++) {
      const g = <usize>r * groupBlocks + block;
      const j = (kb * bk + c) * d + r;
      const vt = ctxPtr(ctx, C_RES_VT) + g * vtBytes + ((<usize>c) << 5);
      const flag = ctxPtr(ctx, C_RES_VBAD) + ((g * <usize>bk + <usize>c) << 2);
      if (j >= Sk) {
        for (let e = 0; e < Dv8; e += 8) {
          v128.store(vt + <usize>(e >> 3) * sliceBytes, zero);
          v128.store(vt + <usize>(e >> 3) * sliceBytes, zero, 16);
        }
        store<i32>(flag, 0);
        continue;
      }
      const vrowAt = vBase + <usize>j * vrow;
      const bad = notFinite(vrowAt, Dv);
      // Eight values per slice of the tile: two vectors while the row has eight left, then the tail, zero-padded.
      let x = 0;
      if (!bad) {
        for (; x + 8 <= Dv; x += 8) {
          const at = vt + <usize>(x >> 3) * sliceBytes;
          const from = vrowAt + ((<usize>x) << 2);
          v128.store(at, v128.load(from));
          v128.store(at, v128.load(from, 16), 16);
        }
      }
      for (; x < Dv8; x++) {
        const value: f32 = bad || x >= Dv ? 0 : load<f32>(vrowAt + ((<usize>x) << 2));
        store<f32>(vt + <usize>(x >> 3) * sliceBytes + ((<usize>(x & 7)) << 2), value);
      }
      store<i32>(flag, bad ? -1 : 0);
      if (bad) store<i32>(ctxPtr(ctx, C_RES_VBAD_BLOCK) + (g << 2), 1);
    }
  }
}

/** Whether a row of n floats holds NaN or ±Infinity: x · 0 is NaN exactly when x is not finite, and survives the sum. */
function notFinite(row: usize, n: i32): bool {
  const zero = f32x4.splat(0);
  let acc = zero;
  let e = 0;
  for (; e + 4 <= n; e += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(row + ((<usize>e) << 2)), zero));
  let tail: f32 = 0;
  for (; e < n; e++) tail += load<f32>(row + ((<usize>e) << 2)) * 0;
  return v128.any_true(f32x4.ne(acc, acc)) || F32.isNaN(tail);
}

/**
 * A key whose v row holds a non-finite value: the row is zeroed (in the call's own copy) and the key flagged, so
 * rows that mask the key out multiply 0 by 0, and rows that attend it are made NaN by the attend phase.
 */
function flagBadV(ctx: usize, t: i32, b: i32, hk: i32, j0: i32, width: i32): void {
  const bk = ctxInt(ctx, C_BK);
  const Dv = ctxInt(ctx, C_DV);
  const vrow = (<usize>ctxInt(ctx, C_V_ROW)) << 2;
  const src = tensorRow(ctx, C_V, b, hk, j0);
  const flags = ctxPtr(ctx, C_VBAD) + ((<usize>t * <usize>bk) << 2);
  let any = 0;
  for (let c = 0; c < bk; c++) {
    let bad = false;
    if (c < width) {
      const row = src + <usize>c * vrow;
      bad = notFinite(row, Dv);
      if (bad) memory.fill(row, 0, (<usize>Dv) << 2);
    }
    store<i32>(flags + ((<usize>c) << 2), bad ? -1 : 0);
    if (bad) any = 1;
  }
  store<i32>(ctxPtr(ctx, C_VBAD_BLOCK) + ((<usize>t) << 2), any);
}

/**
 * label(x) = argmax_c Σ_d x[d] · unit[c][d] in float64, strictly greater wins (ties to the smaller c): the same
 * operations in the same order as core's clusterLabel, so the labels are bit-identical to the reference.
 */
function labelJob(job: usize, D: i32): void {
  const src = <usize>load<u32>(job + (LJ_SRC << 2));
  const stride = <usize>load<u32>(job + (LJ_STRIDE << 2));
  const rows = load<i32>(job + (LJ_ROWS << 2));
  const unit = <usize>load<u32>(job + (LJ_UNIT << 2));
  const C = load<i32>(job + (LJ_C << 2));
  const dst = <usize>load<u32>(job + (LJ_DST << 2));
  for (let r = 0; r < rows; r++) {
    const x = src + <usize>r * stride;
    let best = 0;
    let bestScore: f64 = -Infinity;
    for (let c = 0; c < C; c++) {
      const u = unit + ((<usize>c * <usize>D) << 3);
      let s: f64 = 0;
      for (let d = 0; d < D; d++) s += <f64>load<f32>(x + ((<usize>d) << 2)) * load<f64>(u + ((<usize>d) << 3));
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    store<i32>(dst + ((<usize>r) << 2), best);
  }
}

// ---------------------------------------------------------------------------------------------------------
// shared task geometry

/**
 * Where one task of the topk and attend phases lies: query head h, batch entry b, query block qb. A view on TASK_BYTES
 * of the worker's own scratch (never memory another worker writes), filled by locateTask.
 *
 * With heads packed (C_HEAD_PACK > 1, Sq = 1) the task's "rows" are the one query row of `rows` consecutive heads
 * h, h + 1, …: their q and out rows are a head stride apart, their per-row entries (ml, thr, tie, labelQ) are
 * adjacent as rows' are, and every lane reads the same bit-tile row (bitsRowBytes = 0).
 */
@unmanaged
class Task {
  /** Query head, batch entry, query block; its first row i0 and its rows (bq, or fewer in the last block). */
  h: i32;
  b: i32;
  qb: i32;
  i0: i32;
  rows: i32;
  /** The head's row in the head table. */
  headRow: usize;
  /** Its first query row and the byte stride of q rows, of out rows, and of the rows of a bit tile. */
  q: usize;
  qStride: usize;
  oStride: usize;
  bitsRowBytes: usize;
  /** Kt of its (batch entry, kv head), and the bytes of one Kt block (logical block kb at kb mod C_KT_BLOCKS). */
  kt: usize;
  ktBlock: usize;
  /** Index of its first row in the per-row arrays [B][Hq][Sq] (ml, thr, tie, labelQ). */
  rowIndex: usize;
  /** The located task's id (its partial records and split counter under split-K). */
  id: i32;
}

/**
 * Task t = (hp · B + b) · numQBlocks + qb, located into `task` (which it returns): hp is the query head, or with
 * heads packed the pack of C_HEAD_PACK heads starting at head hp · C_HEAD_PACK.
 */
function locateTask(ctx: usize, t: i32, task: Task): Task {
  const nqb = ctxInt(ctx, C_NQB);
  const B = ctxInt(ctx, C_B);
  const bq = ctxInt(ctx, C_BQ);
  const pack = ctxInt(ctx, C_HEAD_PACK);
  const qb = t % nqb;
  const hb = t / nqb;
  const b = hb % B;
  const h = (hb / B) * pack;
  const hk = h / ctxInt(ctx, C_GROUP);
  const i0 = qb * bq;
  task.id = t;
  task.h = h;
  task.b = b;
  task.qb = qb;
  task.i0 = i0;
  task.rows = pack > 1 ? pack : min(bq, ctxInt(ctx, C_SQ) - i0);
  task.headRow = ctxPtr(ctx, C_HEADS) + <usize>h * ((<usize>HEAD_WORDS) << 2);
  task.q = tensorRow(ctx, C_Q, b, h, i0);
  task.qStride = (<usize>ctxInt(ctx, pack > 1 ? C_Q_HEAD : C_Q_ROW)) << 2;
  task.oStride = (<usize>ctxInt(ctx, pack > 1 ? C_O_HEAD : C_O_ROW)) << 2;
  task.bitsRowBytes = pack > 1 ? 0 : (<usize>ctxInt(ctx, C_WPR)) << 2;
  const ktBlock = (<usize>ctxInt(ctx, C_D) * <usize>ctxInt(ctx, C_BK)) << 2;
  task.ktBlock = ktBlock;
  task.kt = ctxPtr(ctx, C_KT) + <usize>(b * ctxInt(ctx, C_HKV) + hk) * <usize>ctxInt(ctx, C_KT_BLOCKS) * ktBlock;
  task.rowIndex = (<usize>b * <usize>ctxInt(ctx, C_HQ) + <usize>h) * <usize>ctxInt(ctx, C_SQ) + <usize>i0;
  return task;
}

// ---------------------------------------------------------------------------------------------------------
// topk

/**
 * For every row of the task: the candidate scores over the blocks `within` lists (masked ones -Infinity), then
 * t = the k-th largest (quickselect) and the tie cut = the key of the (k - #{s > t})-th score equal to t in
 * increasing key order. Fewer than k candidates keeps all (t = -Infinity, tie cut = i32 max); a NaN candidate
 * gives t = NaN.
 */
function topkTask(ctx: usize, task: Task, scratch: usize): void {
  const head = task.headRow;
  if (headField(head, HEAD_MODE) !== MODE_TOPK) return;
  const k = headField(head, HEAD_PARAM);
  const bk = ctxInt(ctx, C_BK);
  const bq = ctxInt(ctx, C_BQ);
  const Sk = ctxInt(ctx, C_SK);
  const wpr = ctxInt(ctx, C_WPR);
  const D = ctxInt(ctx, C_D);
  const scale = reinterpret<f32>(ctxInt(ctx, C_SCALE));
  const colIdx = headArray(ctx, head, C_COL_IDX, HEAD_COL_IDX);
  const pidx = headArray(ctx, head, C_PARTIAL_IDX, HEAD_COL_IDX);
  const bits = headArray(ctx, head, C_BITS, HEAD_BITS);
  const rowPtr = headArray(ctx, head, C_ROW_PTR, HEAD_ROW_PTR) + ((<usize>task.qb) << 2);
  const n0 = load<i32>(rowPtr);
  const n1 = load<i32>(rowPtr, 4);
  const kt0 = task.kt;
  const ktBlock = task.ktBlock;
  const ring = ctxInt(ctx, C_KT_BLOCKS);
  const maxCols = ctxInt(ctx, C_MAXCOLS);
  const ldG = (<usize>maxCols) << 4;
  const cand = scratch + ctxPtr(ctx, C_SC_CAND);
  const sel = scratch + ctxPtr(ctx, C_SC_SEL);
  const Qp = scratch + ctxPtr(ctx, C_SC_QP);
  const rows = task.rows;
  const groups = (rows + 3) >> 2;
  packQ(task.q, task.qStride, rows, D, reinterpret<f32>(ctxInt(ctx, C_QSCALE)), Qp);
  for (let n = n0; n < n1; n++) {
    const kb = load<i32>(colIdx + ((<usize>n) << 2));
    const P = load<i32>(pidx + ((<usize>n) << 2));
    const j0 = kb * bk;
    const kt = kt0 + <usize>(kb % ring) * ktBlock;
    for (let g = 0; g < groups; g++) {
      const St = cand + <usize>g * ldG + ((<usize>((n - n0) * bk)) << 4);
      scoreGroup(Qp + <usize>g * ((<usize>D) << 4), kt, bk, D, scale, St);
      if (P >= 0) applyBits(St, bk, bits + ((<usize>(P * bq) * <usize>wpr) << 2) + <usize>(g << 2) * task.bitsRowBytes, wpr, task.bitsRowBytes);
      if (Sk - j0 < bk) maskTail(St, Sk - j0, bk);
    }
  }
  const ncols = (n1 - n0) * bk;
  const thr = ctxPtr(ctx, C_THR) + (task.rowIndex << 2);
  const tie = ctxPtr(ctx, C_TIE) + (task.rowIndex << 2);
  for (let r = 0; r < rows; r++) {
    const col0 = cand + <usize>(r >> 2) * ldG + ((<usize>(r & 3)) << 2);
    let count = 0;
    let poisoned = false;
    for (let c = 0; c < ncols; c++) {
      const x = load<f32>(col0 + ((<usize>c) << 4));
      store<f32>(sel + ((<usize>c) << 2), x);
      if (x > <f32>-Infinity) count++;
      if (F32.isNaN(x)) poisoned = true;
    }
    const rb = (<usize>r) << 2;
    // A NaN score among the candidates (the ranking needs all of them): t = NaN makes the row NaN in attend.
    if (poisoned) {
      store<f32>(thr + rb, NaN);
      store<i32>(tie + rb, i32.MAX_VALUE);
      continue;
    }
    if (count <= k) {
      store<f32>(thr + rb, -Infinity);
      store<i32>(tie + rb, i32.MAX_VALUE);
      continue;
    }
    const th = selectKth(sel, ncols, ncols - k);
    let need = k;
    for (let c = 0; c < ncols; c++) if (load<f32>(col0 + ((<usize>c) << 4)) > th) need--;
    let cut = i32.MAX_VALUE;
    for (let c = 0; c < ncols; c++) {
      if (load<f32>(col0 + ((<usize>c) << 4)) === th) {
        need--;
        if (need === 0) {
          const e = c / bk;
          cut = load<i32>(colIdx + ((<usize>(n0 + e)) << 2)) * bk + (c - e * bk);
          break;
        }
      }
    }
    store<f32>(thr + rb, th);
    store<i32>(tie + rb, cut);
  }
}

// ---------------------------------------------------------------------------------------------------------
// attend

/**
 * The keys of a partial block that any of a group's four rows attends (their bits: rowBytes apart, wpr words each),
 * widened to chunks of eight and cut at the block's width: lo << 16 | hi, with lo >= hi when there is none.
 */
function bitsRange(bits: usize, wpr: i32, rowBytes: usize, width: i32): i32 {
  let lo = -1;
  let hi = 0;
  for (let w = 0; w < wpr; w++) {
    const at = bits + ((<usize>w) << 2);
    const any = load<u32>(at) | load<u32>(at + rowBytes) | load<u32>(at + 2 * rowBytes) | load<u32>(at + 3 * rowBytes);
    if (any === 0) continue;
    if (lo < 0) lo = (w << 5) + <i32>ctz(any);
    hi = (w << 5) + 32 - <i32>clz(any);
  }
  if (lo < 0) return 0;
  return ((lo & ~7) << 16) | min((hi + 7) & ~7, (width + 7) & ~7);
}

/**
 * One task, or under split-K (C_SPLITS > 1) its key split `split`: the split's share of the task's listed key blocks
 * (as equal as whole blocks allow), written as partial records and merged by the last split to finish.
 */
function attendTask(ctx: usize, task: Task, scratch: usize, split: i32): void {
  const head = task.headRow;
  const mode = headField(head, HEAD_MODE);
  const h = task.h;
  const b = task.b;
  const kt0 = task.kt;
  const ktBlock = task.ktBlock;
  const rowIndex = task.rowIndex;
  const bk = ctxInt(ctx, C_BK);
  const bq = ctxInt(ctx, C_BQ);
  const Sk = ctxInt(ctx, C_SK);
  const wpr = ctxInt(ctx, C_WPR);
  const D = ctxInt(ctx, C_D);
  const Dv = ctxInt(ctx, C_DV);
  const scale = reinterpret<f32>(ctxInt(ctx, C_SCALE));
  const colIdx = headArray(ctx, head, C_COL_IDX, HEAD_COL_IDX);
  const pidx = headArray(ctx, head, C_PARTIAL_IDX, HEAD_COL_IDX);
  const bits = headArray(ctx, head, C_BITS, HEAD_BITS);
  const rowPtr = headArray(ctx, head, C_ROW_PTR, HEAD_ROW_PTR) + ((<usize>task.qb) << 2);
  const splits = ctxInt(ctx, C_SPLITS);
  const first = load<i32>(rowPtr);
  const listed = load<i32>(rowPtr, 4) - first;
  const n0 = first + (listed * split) / splits;
  const n1 = first + (listed * (split + 1)) / splits;
  const rows = task.rows;
  const groups = (rows + 3) >> 2;
  const St = scratch + ctxPtr(ctx, C_SC_S);
  const Qp = scratch + ctxPtr(ctx, C_SC_QP);
  const M = scratch + ctxPtr(ctx, C_SC_M);
  const L = scratch + ctxPtr(ctx, C_SC_L);
  const corr = scratch + ctxPtr(ctx, C_SC_CORR);
  const acc = scratch + ctxPtr(ctx, C_SC_ACC);
  const lda = (<usize>ctxInt(ctx, C_DVA)) << 2;
  const hk = h / ctxInt(ctx, C_GROUP);
  const vs = (<usize>ctxInt(ctx, C_V_ROW)) << 2;
  // V tiles (a KV cache) or v rows in the request layout.
  const vTiled = ctxInt(ctx, C_V_TILED) !== 0;
  const Dv8 = (Dv + 7) & ~7;
  const vTileBytes = (<usize>bk * <usize>Dv8) << 2;
  const chunkBytes = (<usize>D) << 5;
  const thr = ctxPtr(ctx, C_THR) + (rowIndex << 2);
  const tie = ctxPtr(ctx, C_TIE) + (rowIndex << 2);
  const labelQ = ctxPtr(ctx, C_LABELQ) + (rowIndex << 2);
  // Key labels of the head's label group for batch entry b (cluster heads only: others have no group).
  const keysPadded = <usize>ctxInt(ctx, C_NKB) * <usize>bk;
  const labelK =
    mode === MODE_CLUSTER ? ctxPtr(ctx, C_LABEL_K) + (((<usize>headField(head, HEAD_LABELS) * <usize>ctxInt(ctx, C_B) + <usize>b) * keysPadded) << 2) : 0;
  // Stored key blocks (Kt, flags, v rows): logical block kb at kb mod ring (see C_KT_BLOCKS).
  const ring = ctxInt(ctx, C_KT_BLOCKS);
  const kvBlocks = <usize>(b * ctxInt(ctx, C_HKV) + hk) * <usize>ring;
  const vBase = vTiled ? ctxPtr(ctx, C_V) + kvBlocks * vTileBytes : tensorRow(ctx, C_V, b, hk, 0);
  const badBlock = ctxPtr(ctx, C_VBAD_BLOCK) + (kvBlocks << 2);
  const badKey = ctxPtr(ctx, C_VBAD) + ((kvBlocks * <usize>bk) << 2);

  packQ(task.q, task.qStride, rows, D, reinterpret<f32>(ctxInt(ctx, C_QSCALE)), Qp);
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  for (let g = 0; g < groups; g++) {
    v128.store(M + ((<usize>g) << 4), ninf);
    v128.store(L + ((<usize>g) << 4), zero);
  }
  memory.fill(acc, 0, ((<usize>groups) << 2) * lda);

  // Runs of adjacent listed key blocks (up to RUN_KEYS keys) share one softmax update and one P·V pass: the
  // masks keep the block granularity, the inner loops get long runs of contiguous keys.
  const maxRun = max(1, RUN_KEYS / bk);
  let n = n0;
  while (n < n1) {
    const kb0 = load<i32>(colIdx + ((<usize>n) << 2));
    let m = n + 1;
    // A run is also contiguous where it is stored: it stops where the stored blocks wrap around.
    const pb0 = kb0 % ring;
    while (m < n1 && m - n < maxRun && load<i32>(colIdx + ((<usize>m) << 2)) === kb0 + (m - n) && pb0 + (m - n) < ring) m++;
    const j0 = kb0 * bk;
    const pj0 = pb0 * bk;
    const keys = min((m - n) * bk, Sk - j0);
    const runBk = (m - n) * bk;
    const vb = vTiled ? vBase + <usize>pb0 * vTileBytes : vBase + <usize>pj0 * vs;
    let badV = false;
    for (let pb = pb0; pb < pb0 + (m - n); pb++) if (load<i32>(badBlock + ((<usize>pb) << 2)) !== 0) badV = true;
    for (let g = 0; g < groups; g++) {
      const gr = (<usize>g) << 4;
      const qg = Qp + <usize>g * ((<usize>D) << 4);
      const groupBits = <usize>(g << 2) * task.bitsRowBytes;
      // [lo, hi): the keys of the run any row of the group attends, in chunks of eight: the scores, the softmax and
      // P·V skip the rest (the band edges of a window, the diagonal of causal). Inside it, keys no row attends are
      // -Infinity after the masks below, as without the trimming.
      let lo = runBk;
      let hi = 0;
      for (let e = n; e < m; e++) {
        const kb = kb0 + (e - n);
        const P = load<i32>(pidx + ((<usize>e) << 2));
        const jb = kb * bk;
        const width = min(bk, Sk - jb);
        const off = (e - n) * bk;
        const Sb = St + ((<usize>off) << 4);
        const rowBits = P >= 0 ? bits + ((<usize>(P * bq) * <usize>wpr) << 2) + groupBits : 0;
        const range = P >= 0 ? bitsRange(rowBits, wpr, task.bitsRowBytes, width) : (width + 7) & ~7;
        const blo = range >>> 16;
        const bhi = range & 0xffff;
        if (blo < bhi) {
          scoreGroup(qg, kt0 + <usize>(pb0 + (e - n)) * ktBlock + <usize>(blo >> 3) * chunkBytes, bhi - blo, D, scale, Sb + ((<usize>blo) << 4));
          lo = min(lo, off + blo);
          hi = off + bhi;
        }
        if (P >= 0) applyBits(Sb, bk, rowBits, wpr, task.bitsRowBytes);
        if (width < bk) maskTail(Sb, width, bk);
        if (mode === MODE_TOPK) applyTopk(Sb, bk, jb, thr + gr, tie + gr);
        else if (mode === MODE_CLUSTER) applyCluster(Sb, bk, labelQ + gr, labelK + ((<usize>jb) << 2));
      }
      // No key of the run for any row of the group: its m, l and accumulator stay as they are.
      if (hi <= lo) continue;
      const S0 = St + ((<usize>lo) << 4);
      const used = min(hi, keys) - lo;
      if (badV) applyBadV(S0, used, badKey + ((<usize>(pj0 + lo)) << 2));
      softmaxGroup(S0, hi - lo, M + gr, L + gr, corr + gr);
      if (vTiled) pvTiles(S0, used, vb + <usize>(lo / bk) * vTileBytes, lo % bk, bk, vTileBytes, acc + <usize>(g << 2) * lda, lda, Dv8, corr + gr);
      else pvGroup(S0, used, vb + <usize>lo * vs, vs, acc + <usize>(g << 2) * lda, lda, Dv, corr + gr);
    }
    n = m;
  }

  if (splits === 1) {
    for (let r = 0; r < rows; r++) writeRow(ctx, task, r, load<f32>(M + ((<usize>r) << 2)), load<f32>(L + ((<usize>r) << 2)), acc + <usize>r * lda);
    return;
  }
  // Split-K: this split's partial records, then the merge by whichever split of the task finishes last.
  const recBytes = (<usize>(SPLIT_HEAD + ctxInt(ctx, C_DVA))) << 2;
  let rec = ctxPtr(ctx, C_PARTIALS) + <usize>(task.id * splits + split) * <usize>bq * recBytes;
  for (let r = 0; r < rows; r++) {
    store<f32>(rec, load<f32>(M + ((<usize>r) << 2)));
    store<f32>(rec, load<f32>(L + ((<usize>r) << 2)), 4);
    memory.copy(rec + ((<usize>SPLIT_HEAD) << 2), acc + <usize>r * lda, lda);
    rec += recBytes;
  }
  if (takeChunk(ctxPtr(ctx, C_SPLIT_DONE) + ((<usize>task.id) << 2)) === splits - 1) mergeSplits(ctx, task, scratch);
}

/**
 * Writes one row of a task: out = acc / l in the request layout, and (m, l) for the log-sum-exp. l = 0: no allowed
 * key (out 0); l = NaN: the row met a non-finite score or v (out NaN).
 */
function writeRow(ctx: usize, task: Task, r: i32, m: f32, l: f32, a: usize): void {
  const Dv = ctxInt(ctx, C_DV);
  const o = tensorRow(ctx, C_O, task.b, task.h, task.i0) + <usize>r * task.oStride;
  const inv: f32 = l > 0 ? <f32>1 / l : l * 0;
  const iv = f32x4.splat(inv);
  let e = 0;
  for (; e + 4 <= Dv; e += 4) v128.store(o + ((<usize>e) << 2), f32x4.mul(v128.load(a + ((<usize>e) << 2)), iv));
  for (; e < Dv; e++) store<f32>(o + ((<usize>e) << 2), load<f32>(a + ((<usize>e) << 2)) * inv);
  const ml = ctxPtr(ctx, C_ML) + ((task.rowIndex + <usize>r) << 3);
  store<f32>(ml, m);
  store<f32>(ml, l, 4);
}

/**
 * Merges the partial records of a task's C_SPLITS key splits, row by row: m = the largest m of the splits that
 * attended a key (l > 0), l = Σ l_s · e^(m_s - m), acc = Σ acc_s · e^(m_s - m). A split with l = NaN makes the row
 * NaN; splits with l = 0 add nothing, and a row no split attended keeps m = -Infinity, l = 0.
 */
function mergeSplits(ctx: usize, task: Task, scratch: usize): void {
  const splits = ctxInt(ctx, C_SPLITS);
  const lda = (<usize>ctxInt(ctx, C_DVA)) << 2;
  const recBytes = ((<usize>SPLIT_HEAD) << 2) + lda;
  const bq = <usize>ctxInt(ctx, C_BQ);
  const base = ctxPtr(ctx, C_PARTIALS) + <usize>task.id * <usize>splits * bq * recBytes;
  const acc = scratch + ctxPtr(ctx, C_SC_ACC);
  for (let r = 0; r < task.rows; r++) {
    let m: f32 = -Infinity;
    let poisoned = false;
    // e^x as the softmax computes it (exp2v: no library function, whose lookup table would be static data).
    for (let s = 0; s < splits; s++) {
      const rec = base + (<usize>s * bq + <usize>r) * recBytes;
      const l = load<f32>(rec, 4);
      if (F32.isNaN(l)) poisoned = true;
      else if (l > 0) m = max(m, load<f32>(rec));
    }
    memory.fill(acc, 0, lda);
    let l: f32 = poisoned ? NaN : 0;
    if (!poisoned && m > -Infinity) {
      for (let s = 0; s < splits; s++) {
        const rec = base + (<usize>s * bq + <usize>r) * recBytes;
        const ls = load<f32>(rec, 4);
        if (!(ls > 0)) continue;
        const f = f32x4.extract_lane(exp2v(f32x4.splat((load<f32>(rec) - m) * LOG2E)), 0);
        l += ls * f;
        const fv = f32x4.splat(f);
        const a = rec + ((<usize>SPLIT_HEAD) << 2);
        for (let e: usize = 0; e < lda; e += 16) v128.store(acc + e, f32x4.add(v128.load(acc + e), f32x4.mul(v128.load(a + e), fv)));
      }
    }
    writeRow(ctx, task, r, m, l, acc);
  }
}
