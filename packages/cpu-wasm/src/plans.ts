import type { AttentionPlan, TileSizes } from '@sparse/core';
import { patternKey } from '@sparse/core';
import { type BlockMaskCache, type HeadTable, packHeadTable } from '@sparse/core/backend';
import type { Phase } from './instance.js';
import { planChunks } from './plan.js';
import type { CallChunks } from './write.js';

/** A call's compiled form: its head table (masks included) and, per chunk count, its chunk plan. */
export interface CompiledCall {
  table: HeadTable;
  /**
   * The key blocks any head lists (increasing), when a host call copies and transposes only those: null when it
   * takes every block (most blocks listed, or cluster heads, whose key labels read every key row).
   */
  keyBlocks: Int32Array | null;
  chunks: Map<string, { chunks: CallChunks; phases: Phase[]; labelJobs: number }>;
}

/** Entries kept: the layers of a model repeat a handful of (pattern, shape) pairs per step. */
export const PLAN_CACHE_SIZE = 16;

/**
 * Compiled calls by pattern key, sizes and query offset (LRU): calls that repeat (every layer of one decode step,
 * or a resident chain) skip mask compilation, head table packing and chunk planning. The block mask cache stays
 * underneath, for masks shared by different calls.
 */
export class PlanCache {
  private readonly entries = new Map<string, CompiledCall>();

  constructor(
    private readonly masks: BlockMaskCache,
    private readonly tiles: TileSizes,
    private readonly capacity = PLAN_CACHE_SIZE,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The compiled call of a plan. */
  get(plan: AttentionPlan): CompiledCall {
    const key = planKey(plan);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const table = packHeadTable(plan, this.masks, this.tiles);
    const entry: CompiledCall = { table, keyBlocks: listedKeyBlocks(table, Math.ceil(plan.seqK / this.tiles.blockK)), chunks: new Map() };
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  /**
   * Its chunk plan for `count` chunks on `threads` threads; `transpose: false` for calls whose Kᵀ tiles are stored
   * already (a KV cache).
   */
  chunks(
    plan: AttentionPlan,
    entry: CompiledCall,
    count: number,
    threads: number,
    transpose = true,
  ): { chunks: CallChunks; phases: Phase[]; labelJobs: number } {
    const key = `${count}|${threads}|${transpose}`;
    let c = entry.chunks.get(key);
    if (!c) entry.chunks.set(key, (c = planChunks(plan, entry.table, this.tiles, count, threads, transpose, entry.keyBlocks)));
    return c;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Below this fraction of listed key blocks a host call copies and transposes only the listed ones. */
export const PARTIAL_COPY_FRACTION = 0.75;

/** The key blocks any head of the table lists, or null when a call should take them all (see CompiledCall). */
export function listedKeyBlocks(table: HeadTable, numKBlocks: number): Int32Array | null {
  if (table.hasCluster) return null;
  const listed = new Uint8Array(numKBlocks);
  let count = 0;
  for (const kb of table.colIdx)
    if (!listed[kb]) {
      listed[kb] = 1;
      count++;
    }
  if (count >= PARTIAL_COPY_FRACTION * numKBlocks) return null;
  const out = new Int32Array(count);
  for (let kb = 0, n = 0; kb < numKBlocks; kb++) if (listed[kb]) out[n++] = kb;
  return out;
}

/** Patterns (one key when every head has the same pattern object), sizes and the query offset. */
function planKey(plan: AttentionPlan): string {
  const first = plan.patterns[0]!;
  const patterns = plan.patterns.every((p) => p === first) ? patternKey(first) : `[${plan.patterns.map(patternKey).join(',')}]`;
  const { batch, headsQ, headsKv, seqQ, seqK, headDim, headDimV, offset } = plan;
  return `${patterns}|${batch}|${headsQ}|${headsKv}|${seqQ}|${seqK}|${headDim}|${headDimV}|${offset}`;
}
