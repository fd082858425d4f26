import type { AttentionPlan, TileSizes } from '@sparse/core';
import { HEAD_MODE, HEAD_WORDS, type HeadTable } from '@sparse/core/backend';
import { PHASE_ATTEND, PHASE_PREP, PHASE_TOPK } from './abi.js';
import { attentionCost, balancedChunks, blockRuns } from './chunks.js';
import type { Phase } from './instance.js';
import { headsIn, LABEL_ROWS, labelJobCount, listedBlocks } from './pack.js';
import type { CallChunks } from './write.js';

/** Chunks per worker thread: several, so threads that finish early take more (dynamic balance). */
export const CHUNKS_PER_THREAD = 16;
/** Chunks of an inline call: the calling thread yields to the event loop between them (every ~20 ms). */
export const INLINE_CHUNKS = 64;

/** Split-K below this many attention tasks per thread: fewer would leave threads idle (decode over few kv heads). */
export const SPLIT_BELOW_TASKS_PER_THREAD = 2;
/** The fewest listed key blocks a key split gets: a split has fixed costs (its partial record, the merge). */
export const MIN_SPLIT_BLOCKS = 4;

/**
 * The work of one call, split by (head, batch, query block) into about `count` chunks of equal cost (listed key
 * blocks · tile area), and the phases to run. With few tasks for `threads` threads, each task's listed key blocks
 * are split between several attention tasks (split-K, see C_SPLITS). `transpose: false` (the Kᵀ tiles are stored already: a KV cache) plans no
 * K transposition, and no prep phase when nothing else is left to prepare; `keyBlocks` (the blocks any head lists)
 * limits the transposition to those.
 */
export function planChunks(
  plan: AttentionPlan,
  table: HeadTable,
  tiles: TileSizes,
  count: number,
  threads: number,
  transpose = true,
  keyBlocks: Int32Array | null = null,
): { chunks: CallChunks; phases: Phase[]; labelJobs: number } {
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D } = plan;
  const { blockQ: bq, blockK: bk } = tiles;
  const numQB = Math.ceil(Sq / bq);
  const numKB = Math.ceil(Sk / bk);
  const perHead = B * numQB;
  const headPack = headsPerTask(plan, table, bq);
  const cost = attentionCost((h, qb) => listedBlocks(table, h, qb), B, numQB, bq * bk, headPack);
  const tasks = (Hq / headPack) * perHead;
  const splits = keySplits(table, tasks, threads, headPack, numQB);
  const attend = balancedChunks([[0, tasks * splits]], (t) => cost(Math.floor(t / splits)) / splits, count);

  // Task ranges of the top-k heads (packed heads share their head-table row, so a pack is top-k as its first head).
  const topkRanges: [number, number][] = [];
  for (const h of headsIn(table, HEAD_MODE.topk)) {
    if (h % headPack !== 0) continue;
    const hp = h / headPack;
    const last = topkRanges[topkRanges.length - 1];
    if (last && last[1] === hp * perHead) last[1] = (hp + 1) * perHead;
    else topkRanges.push([hp * perHead, (hp + 1) * perHead]);
  }
  const topk = balancedChunks(topkRanges, cost, count);

  const transposeTasks = transpose ? B * Hkv * numKB : 0;
  const labelJobs = labelJobCount(plan, table);
  const maxC = table.labelGroups.reduce((m, g) => Math.max(m, g.count), 1);
  // Transposition tasks: every key block, or only the listed ones (task (b · Hkv + hk) · numKBlocks + kb).
  const ranges: [number, number][] = [];
  if (transposeTasks > 0 && keyBlocks) {
    const runs = blockRuns(keyBlocks);
    for (let bh = 0; bh < B * Hkv; bh++) for (const [a, e] of runs) ranges.push([bh * numKB + a, bh * numKB + e]);
  } else if (transposeTasks > 0) ranges.push([0, transposeTasks]);
  if (labelJobs > 0) ranges.push([transposeTasks, transposeTasks + labelJobs]);
  const prep = balancedChunks(ranges, (t) => (t < transposeTasks ? bk * D : LABEL_ROWS * maxC * D), count);

  const phases: Phase[] = prep.length > 0 ? [PHASE_PREP] : [];
  if (table.hasTopk) phases.push(PHASE_TOPK);
  phases.push(PHASE_ATTEND);
  return { chunks: { prep, topk, attend, transposeTasks, headPack, tasks, splits }, phases, labelJobs };
}

/**
 * Key splits per attention task (C_SPLITS): 1, or where `tasks` would leave some of `threads` threads idle, enough
 * splits to give each thread SPLIT_BELOW_TASKS_PER_THREAD tasks, as long as a split keeps MIN_SPLIT_BLOCKS listed
 * blocks of the task that lists the most.
 */
export function keySplits(table: HeadTable, tasks: number, threads: number, headPack: number, numQB: number): number {
  if (threads < 2 || tasks >= SPLIT_BELOW_TASKS_PER_THREAD * threads) return 1;
  let most = 0;
  const heads = table.heads.length / HEAD_WORDS;
  for (let h = 0; h < heads; h += headPack) for (let qb = 0; qb < numQB; qb++) most = Math.max(most, listedBlocks(table, h, qb));
  return Math.max(1, Math.min(Math.ceil((SPLIT_BELOW_TASKS_PER_THREAD * threads) / tasks), Math.floor(most / MIN_SPLIT_BLOCKS)));
}

/**
 * Query heads per attention task (C_HEAD_PACK): with one query row (decode), the heads of a kv group fill the kernel's
 * four-row groups instead of one lane each, and the group's keys and values are read once, not once per head. Only
 * where every head of each kv group has the same head-table row (same mask, mode and parameters: the usual case);
 * the pack is the largest divisor of the group that fits a query block's scratch.
 */
export function headsPerTask(plan: AttentionPlan, table: HeadTable, blockQ: number): number {
  const G = plan.group;
  if (plan.seqQ !== 1 || G < 2) return 1;
  const W = HEAD_WORDS;
  const rows = table.heads;
  for (let h = 0; h < plan.headsQ; h++) {
    const first = h - (h % G);
    if (h === first) continue;
    for (let w = 0; w < W; w++) if (rows[h * W + w] !== rows[first * W + w]) return 1;
  }
  let pack = Math.min(G, blockQ);
  while (G % pack !== 0) pack--;
  return pack;
}
