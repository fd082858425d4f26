// Core's packed head table (packHeadTable) in the wasm memory. The head rows go in as core packs them: their
// offsets count elements of the concatenated mask arrays (rowPtr, colIdx and partialIdx, bits), which are copied
// whole, and the call context holds each array's byte base pointer (C_ROW_PTR, …): the kernel adds the two
// (assembly/phases.ts, headArray). Cluster heads' centroids and key labels are laid out by the same table.
import type { AttentionPlan } from '@sparse/core';
import { HEAD_FIELD, HEAD_MODE, HEAD_WORDS, type HeadTable } from '@sparse/core/backend';
import * as A from './abi.js';

/** Rows per label job (cluster labels are computed in chunks of this many rows). */
export const LABEL_ROWS = 256;

/** A field of head h's row (HEAD_FIELD.mode, …). */
export function headField(table: HeadTable, h: number, field: number): number {
  return table.heads[h * HEAD_WORDS + field]!;
}

/** Key blocks head h lists for query block qb. */
export function listedBlocks(table: HeadTable, h: number, qb: number): number {
  const at = headField(table, h, HEAD_FIELD.rowPtr) + qb;
  return table.rowPtr[at + 1]! - table.rowPtr[at]!;
}

function heads(table: HeadTable): number {
  return table.heads.length / HEAD_WORDS;
}

/** The query heads in `mode` (a HEAD_MODE). */
export function headsIn(table: HeadTable, mode: number): number[] {
  const out: number[] = [];
  for (let h = 0; h < heads(table); h++) if (headField(table, h, HEAD_FIELD.mode) === mode) out.push(h);
  return out;
}

/** Top-k candidate columns per query block: the most keys a top-k head lists for one query block. */
export function topkColumns(table: HeadTable, blockK: number): number {
  let most = 0;
  for (const h of headsIn(table, HEAD_MODE.topk)) {
    const m = table.masks[table.headMask[h]!]!;
    for (let qb = 0; qb < m.numQBlocks; qb++) most = Math.max(most, listedBlocks(table, h, qb) * blockK);
  }
  return most;
}

/** Number of label jobs: every (batch, cluster head) over Sq, and every (batch, label group) over Sk. */
export function labelJobCount(plan: AttentionPlan, table: HeadTable): number {
  if (!table.hasCluster) return 0;
  const clusterHeads = headsIn(table, HEAD_MODE.cluster).length;
  return plan.batch * (clusterHeads * Math.ceil(plan.seqQ / LABEL_ROWS) + table.labelGroups.length * Math.ceil(plan.seqK / LABEL_ROWS));
}

/** Where the head table's arrays lie in the memory (byte offsets; see layout.ts). */
export interface TableRegions {
  heads: number;
  rowPtr: number;
  colIdx: number;
  partialIdx: number;
  bits: number;
  centroids: number;
  /** Key labels: one [B][numKBlocks · blockK] i32 block per label group. */
  labelK: number;
}

/** Copies the head table and its arrays into the memory. */
export function writeHeadTable(buf: ArrayBufferLike, table: HeadTable, at: TableRegions): void {
  const I = new Int32Array(buf);
  I.set(table.heads, at.heads >> 2);
  I.set(table.rowPtr, at.rowPtr >> 2);
  I.set(table.colIdx, at.colIdx >> 2);
  I.set(table.partialIdx, at.partialIdx >> 2);
  new Uint32Array(buf).set(table.bits, at.bits >> 2);
  new Float64Array(buf).set(table.centroids, at.centroids >> 3);
}

/** Rows of one tensor: its first row's byte pointer and the byte stride between rows. */
export interface Rows {
  at: (b: number, h: number) => number;
  stride: number;
}

/**
 * The label jobs of the prep phase (LJ_SLOTS i32 each, at `jobs`): the query rows of every cluster head, then the
 * key rows of every label group, per batch entry; the count is labelJobCount().
 */
export function writeLabelJobs(
  buf: ArrayBufferLike,
  plan: AttentionPlan,
  table: HeadTable,
  at: TableRegions,
  jobs: number,
  q: Rows,
  k: Rows,
  labelQ: number,
  keysPadded: number,
): void {
  const I = new Int32Array(buf);
  let job = jobs >> 2;
  const add = (src: number, stride: number, rows: number, centroids: number, count: number, dst: number) => {
    for (let r0 = 0; r0 < rows; r0 += LABEL_ROWS) {
      I[job + A.LJ_SRC] = src + r0 * stride;
      I[job + A.LJ_STRIDE] = stride;
      I[job + A.LJ_ROWS] = Math.min(LABEL_ROWS, rows - r0);
      I[job + A.LJ_UNIT] = at.centroids + centroids * 8;
      I[job + A.LJ_C] = count;
      I[job + A.LJ_DST] = dst + r0 * 4;
      job += A.LJ_SLOTS;
    }
  };
  const { batch: B, headsQ: Hq, seqQ: Sq, seqK: Sk } = plan;
  const cluster = headsIn(table, HEAD_MODE.cluster);
  for (let b = 0; b < B; b++) {
    for (const h of cluster)
      add(q.at(b, h), q.stride, Sq, headField(table, h, HEAD_FIELD.centroids), headField(table, h, HEAD_FIELD.param), labelQ + (b * Hq + h) * Sq * 4);
    table.labelGroups.forEach((g, n) => {
      add(k.at(b, g.kvHead), k.stride, Sk, g.centroids, g.count, at.labelK + (n * B + b) * keysPadded * 4);
    });
  }
}
