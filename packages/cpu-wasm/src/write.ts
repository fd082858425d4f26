import type { AttentionPlan, AttentionRequest, AttentionResult, Layout, TileSizes } from '@sparse/core';
import { type HeadTable, shapeOf } from '@sparse/core/backend';
import * as A from './abi.js';
import { blockRuns } from './chunks.js';
import type { Arena } from './layout.js';
import { writeHeadTable, writeLabelJobs } from './pack.js';

export interface CallChunks {
  prep: Int32Array;
  topk: Int32Array;
  attend: Int32Array;
  /** Prep task ids below this are K transpositions (B · Hkv · numKBlocks); the rest are label jobs. */
  transposeTasks: number;
  /** Query heads per attention task (C_HEAD_PACK; see headsPerTask). */
  headPack: number;
  /** Located attention tasks ((head pack, batch entry, query block)), and key splits per task (C_SPLITS). */
  tasks: number;
  splits: number;
}

export interface Strides {
  row: number;
  head: number;
  batch: number;
}

/** Element strides of a [B, H, S, dim] tensor (logical order) stored in `layout`. */
export function strides(layout: Layout, heads: number, seq: number, dim: number): Strides {
  return layout === 'bhsd' ? { row: dim, head: seq * dim, batch: heads * seq * dim } : { row: heads * dim, head: dim, batch: seq * heads * dim };
}

const f32Bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0]!;

/**
 * scale = pow2 · rest with pow2 a power of two (a normal float32) and |rest| in [1, 2) where it can be: the kernel
 * multiplies q by pow2 (exact) before the dot products and each dot product by rest, so a sum overflows float32
 * only where the score does (within rounding). Scale 0 puts the 0 into q, so finite inputs give scores of 0.
 */
export function splitScale(scale: number): { pow2: number; rest: number } {
  if (scale === 0) return { pow2: 0, rest: 1 };
  const e = Math.min(127, Math.max(-126, Math.floor(Math.log2(Math.abs(scale)))));
  return { pow2: 2 ** e, rest: scale / 2 ** e };
}

/** An address that no memory of this backend reaches: the fault drill points the kernel there to make it trap. */
const OUT_OF_BOUNDS = 0xfffffff0;

/**
 * Where a call's operands lie in the memory: byte pointers and element strides. A host call's are its arena's
 * (hostOperands); a resident call points at its tensors, and a call over a KV cache at the cache's Kᵀ tiles, v rows
 * and flags, stored as `ktBlocks` key blocks per (batch entry, kv head).
 */
export interface Operands {
  q: number;
  k: number;
  v: number;
  o: number;
  kt: number;
  vbad: number;
  vbadBlock: number;
  /** Key blocks stored per (batch entry, kv head) at kt, vbad, vbadBlock and v (C_KT_BLOCKS). */
  ktBlocks: number;
  qs: Strides;
  ks: Strides;
  vs: Strides;
  os: Strides;
  /** Whether the call transposes K in its prep phase (false: the Kᵀ tiles are there already). */
  transpose: boolean;
  /** Whether v is stored as tiles (a KV cache; C_V_TILED), not rows in the layout of `vs`. */
  vTiled: boolean;
}

/** The operands of a call whose inputs and outputs are copied into its own arena. */
export function hostOperands(plan: AttentionPlan, arena: Arena, tiles: TileSizes): Operands {
  const { headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv, layout } = plan;
  return {
    q: arena.q,
    k: arena.k,
    v: arena.v,
    o: arena.o,
    kt: arena.kt,
    vbad: arena.vbad,
    vbadBlock: arena.vbadBlock,
    ktBlocks: Math.ceil(Sk / tiles.blockK),
    qs: strides(layout, Hq, Sq, D),
    ks: strides(layout, Hkv, Sk, D),
    vs: strides(layout, Hkv, Sk, Dv),
    os: strides(layout, Hq, Sq, Dv),
    transpose: true,
    vTiled: false,
  };
}

/**
 * Copies one call into the memory (inputs once, the head table, chunk tables, label jobs) and writes its context.
 * `memory` must already be at least arena.total bytes; views are taken here, after any grow.
 */
export function writeCall(
  memory: WebAssembly.Memory,
  request: AttentionRequest,
  plan: AttentionPlan,
  table: HeadTable,
  arena: Arena,
  chunks: CallChunks,
  tiles: TileSizes,
  trap = false,
  keyBlocks: Int32Array | null = null,
): void {
  const at = hostOperands(plan, arena, tiles);
  writeContext(memory, plan, table, arena, chunks, tiles, at, trap);
  const F = new Float32Array(memory.buffer);
  F.set(request.q.data, arena.q >> 2);
  if (keyBlocks) {
    // Only the keys of the listed blocks are transposed and read: only those rows are copied.
    const runs = blockRuns(keyBlocks).map(([a, e]) => [a * tiles.blockK, Math.min(e * tiles.blockK, plan.seqK)] as const);
    copyRows(F, request.k.data, arena.k, at.ks, plan.batch, plan.headsKv, runs);
    copyRows(F, request.v.data, arena.v, at.vs, plan.batch, plan.headsKv, runs);
  } else {
    F.set(request.k.data, arena.k >> 2);
    F.set(request.v.data, arena.v >> 2);
  }
}

/** Copies the rows [j0, j1) of each run, of every (batch entry, head), to the same place in the memory at `base`. */
function copyRows(F: Float32Array, src: Float32Array, base: number, st: Strides, B: number, H: number, runs: readonly (readonly [number, number])[]): void {
  const dst = base >> 2;
  // bshd: the rows of one position hold every head, so a run of positions is one range per batch entry.
  const perHead = st.head >= st.row;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < (perHead ? H : 1); h++) {
      const o = b * st.batch + (perHead ? h * st.head : 0);
      for (const [j0, j1] of runs) F.set(src.subarray(o + j0 * st.row, o + j1 * st.row), dst + o + j0 * st.row);
    }
}

/**
 * Writes a call's context, head table, chunk tables and label jobs; the operands are where `at` says (copied in
 * by the caller). `memory` must already be at least arena.total bytes.
 */
export function writeContext(
  memory: WebAssembly.Memory,
  plan: AttentionPlan,
  table: HeadTable,
  arena: Arena,
  chunks: CallChunks,
  tiles: TileSizes,
  at: Operands,
  trap = false,
  place: ContextPlace = MAIN_CONTEXT,
): void {
  const buf = memory.buffer;
  const I = new Int32Array(buf);
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv } = plan;
  const { blockQ: bq, blockK: bk } = tiles;
  const numQB = Math.ceil(Sq / bq);
  const numKB = Math.ceil(Sk / bk);
  const { qs, ks, vs, os } = at;

  const c = place.ctx >> 2;
  I.fill(0, c, c + A.CTX_SLOTS);
  const set = (slot: number, value: number) => {
    I[c + slot] = value;
  };
  set(A.C_B, B);
  set(A.C_HQ, Hq);
  set(A.C_HKV, Hkv);
  set(A.C_SQ, Sq);
  set(A.C_SK, Sk);
  set(A.C_D, D);
  set(A.C_DV, Dv);
  set(A.C_GROUP, plan.group);
  set(A.C_BQ, bq);
  set(A.C_BK, bk);
  set(A.C_NQB, numQB);
  set(A.C_NKB, numKB);
  set(A.C_WPR, (bk + 31) >>> 5);
  setTensor(memory, A.C_Q, trap ? OUT_OF_BOUNDS : at.q, qs, place.ctx);
  setTensor(memory, A.C_K, at.k, ks, place.ctx);
  setTensor(memory, A.C_V, at.v, vs, place.ctx);
  setTensor(memory, A.C_O, at.o, os, place.ctx);
  set(A.C_KT, at.kt);
  set(A.C_KT_BLOCKS, at.ktBlocks);
  set(A.C_ML, arena.ml);
  set(A.C_HEADS, arena.heads);
  const { pow2, rest } = splitScale(plan.scale);
  set(A.C_QSCALE, f32Bits(pow2));
  set(A.C_SCALE, f32Bits(rest));
  set(A.C_VBAD, at.vbad);
  set(A.C_VBAD_BLOCK, at.vbadBlock);
  set(A.C_NSCRATCH, arena.scratchSlots);
  set(A.C_COUNTERS, place.counters);
  set(A.C_ABORT, A.ABORT_PTR);
  set(A.C_PREP_CHUNKS, arena.prepChunks);
  set(A.C_PREP_N, chunks.prep.length >> 1);
  set(A.C_TOPK_CHUNKS, arena.topkChunks);
  set(A.C_TOPK_N, chunks.topk.length >> 1);
  set(A.C_ATT_CHUNKS, arena.attChunks);
  set(A.C_ATT_N, chunks.attend.length >> 1);
  set(A.C_SCRATCH, arena.scratch);
  set(A.C_SCRATCH_STRIDE, arena.scratchStride);
  set(A.C_THR, arena.thr);
  set(A.C_TIE, arena.tie);
  set(A.C_LABELQ, arena.labelQ);
  set(A.C_LJOBS, arena.labelJobs);
  set(A.C_MAXCOLS, arena.maxCols);
  set(A.C_SC_S, arena.parts.s);
  set(A.C_SC_M, arena.parts.m);
  set(A.C_SC_QP, arena.parts.qp);
  set(A.C_SC_L, arena.parts.l);
  set(A.C_SC_CORR, arena.parts.corr);
  set(A.C_SC_ACC, arena.parts.acc);
  set(A.C_SC_CAND, arena.parts.cand);
  set(A.C_SC_SEL, arena.parts.sel);
  set(A.C_DVA, arena.dva);
  set(A.C_PREP_NT, chunks.transposeTasks);
  set(A.C_ROW_PTR, arena.rowPtr);
  set(A.C_COL_IDX, arena.colIdx);
  set(A.C_PARTIAL_IDX, arena.partialIdx);
  set(A.C_BITS, arena.bits);
  set(A.C_LABEL_K, arena.labelK);
  set(A.C_SC_TASK, arena.parts.task);
  set(A.C_HEAD_PACK, chunks.headPack);
  set(A.C_V_TILED, at.vTiled ? 1 : 0);
  set(A.C_SPLITS, chunks.splits);
  set(A.C_PARTIALS, arena.partials);
  set(A.C_SPLIT_DONE, arena.splitDone);
  if (chunks.splits > 1) I.fill(0, arena.splitDone >> 2, (arena.splitDone >> 2) + chunks.tasks);
  // The chunk counters of the three phases; writing the main context starts a call, so its abort flag is cleared.
  I.fill(0, place.counters >> 2, (place.counters >> 2) + 3);
  if (place.ctx === A.CTX_PTR) I[A.ABORT_PTR >> 2] = 0;

  I.set(chunks.prep, arena.prepChunks >> 2);
  I.set(chunks.topk, arena.topkChunks >> 2);
  I.set(chunks.attend, arena.attChunks >> 2);

  writeHeadTable(buf, table, arena);
  if (table.hasCluster) {
    const rows = (base: number, st: Strides): { at: (b: number, h: number) => number; stride: number } => ({
      at: (b, h) => base + (b * st.batch + h * st.head) * 4,
      stride: st.row * 4,
    });
    writeLabelJobs(buf, plan, table, arena, arena.labelJobs, rows(at.q, qs), rows(at.k, ks), arena.labelQ, numKB * bk);
  }
}

/**
 * A tensor's four slots in the context at `ctx`: its pointer at `slot`, then its row, head and batch strides (C_Q,
 * C_Q_ROW, …).
 */
export function setTensor(memory: WebAssembly.Memory, slot: number, at: number, st: Strides, ctx: number = A.CTX_PTR): void {
  new Int32Array(memory.buffer).set([at, st.row, st.head, st.batch], (ctx >> 2) + slot);
}

/** Where a context lies: its slots and its three phase counters. */
export interface ContextPlace {
  ctx: number;
  counters: number;
}

/** The context the runners start every phase from (CTX_PTR), with the counters the abort flag follows. */
export const MAIN_CONTEXT: ContextPlace = { ctx: A.CTX_PTR, counters: A.COUNTERS_PTR };

/** Sets the abort flag the kernel polls between tasks. */
export function raiseAbort(memory: WebAssembly.Memory): void {
  const I = new Int32Array(memory.buffer);
  if (memory.buffer instanceof ArrayBuffer) I[A.ABORT_PTR >> 2] = 1;
  else Atomics.store(I, A.ABORT_PTR >> 2, 1);
}

/** Copies out (request layout) and, if asked, lse = m + ln(l) (-Infinity where l = 0, NaN where l is NaN) out of the memory. */
export function readResult(memory: WebAssembly.Memory, plan: AttentionPlan, arena: Arena): AttentionResult {
  const buf = memory.buffer;
  const { batch: B, headsQ: Hq, seqQ: Sq, headDimV: Dv, layout } = plan;
  const rows = B * Hq * Sq;
  if (!(buf instanceof ArrayBuffer)) Atomics.load(new Int32Array(buf), A.COUNTERS_PTR >> 2);
  const data = new Float32Array(buf, arena.o, rows * Dv).slice();
  const result: AttentionResult = { out: { data, shape: shapeOf(layout, B, Hq, Sq, Dv) } };
  if (plan.returnLse) {
    const lse = new Float32Array(rows);
    writeLse(memory, plan, arena, lse);
    result.lse = { data: lse, shape: [B, Hq, Sq] };
  }
  return result;
}

/** lse = m + ln(l) of every query row (-Infinity where l = 0, NaN where l is NaN) into `into` ([B, Hq, Sq]). */
export function writeLse(memory: WebAssembly.Memory, plan: AttentionPlan, arena: Arena, into: Float32Array): void {
  const rows = plan.batch * plan.headsQ * plan.seqQ;
  const ml = new Float32Array(memory.buffer, arena.ml, rows * 2);
  for (let r = 0; r < rows; r++) {
    const l = ml[2 * r + 1]!;
    into[r] = l > 0 ? ml[2 * r]! + Math.log(l) : l === 0 ? Number.NEGATIVE_INFINITY : Number.NaN;
  }
}
