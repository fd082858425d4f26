import { type AttentionPlan, SparseAttentionError, type TileSizes } from '@sparse/core';
import { HEAD_WORDS, type HeadTable } from '@sparse/core/backend';
import { ARENA_BASE, LJ_SLOTS, RUN_KEYS, SPLIT_HEAD, TASK_BYTES } from './abi.js';
import { type TableRegions, topkColumns } from './pack.js';

/** The wasm32 address space: 65536 pages of 64 KiB. */
export const WASM32_BYTES = 65536 * 65536;
/** Byte offsets of everything one call keeps in the wasm memory (the head table's regions included). */
export interface Arena extends TableRegions {
  /** One past the last byte used. */
  total: number;
  prepChunks: number;
  topkChunks: number;
  attChunks: number;
  labelJobs: number;
  q: number;
  k: number;
  v: number;
  o: number;
  kt: number;
  /** Split-K: partial records [tasks][splits][blockQ rows] and a finished-splits counter per task (0: no split-K). */
  partials: number;
  splitDone: number;
  ml: number;
  thr: number;
  tie: number;
  labelQ: number;
  /** Non-finite v rows: per key and per key block flags (see abi.ts). */
  vbad: number;
  vbadBlock: number;
  scratch: number;
  scratchStride: number;
  /** Worker scratch areas laid out: the threads, or fewer where the memory cannot hold one per thread. */
  scratchSlots: number;
  /** Offsets inside one worker's scratch. */
  parts: { s: number; qp: number; m: number; l: number; corr: number; acc: number; cand: number; sel: number; task: number };
  /** Accumulator row length (Dv rounded up to 4). */
  dva: number;
  /** Top-k candidate columns per query block. */
  maxCols: number;
}

/** Dv rounded up to 8: the values per key of a V tile (C_V_TILED), and the floats of an accumulator row. */
export const dv8 = (Dv: number) => Math.ceil(Dv / 8) * 8;

export interface ArenaInput {
  plan: AttentionPlan;
  table: HeadTable;
  tiles: TileSizes;
  /** Worker scratch areas wanted (one per thread); fewer are laid out when the memory cannot hold them all. */
  threads: number;
  chunkPairs: { prep: number; topk: number; attend: number };
  /** Attention tasks and key splits per task: split-K lays out partial records and a counter per task (default none). */
  splits?: { tasks: number; splits: number };
  labelJobs: number;
  /** The most bytes the memory can hold (default 4 GiB; less where the runtime gave a smaller maximum). */
  maxBytes?: number;
  /** Where the arena starts: past the resident tensors (default ARENA_BASE, an empty resident region). */
  base?: number;
  /**
   * Inputs and outputs that already lie in the memory (resident tensors, a KV cache): their regions are not laid
   * out. `kv` leaves out k, v, Kᵀ and the v flags (a KV cache keeps its own).
   */
  resident?: { q?: boolean; k?: boolean; v?: boolean; o?: boolean; kv?: boolean };
}

class Bump {
  at: number;
  constructor(base: number) {
    this.at = base;
  }
  take(bytes: number, align = 64): number {
    const start = Math.ceil(this.at / align) * align;
    this.at = start + bytes;
    return start;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(2)} ${units[u]}`;
}

/** The sentence of a RESOURCE_LIMIT refusal: a call needing `total` bytes of wasm memory, over `limit`. */
export function resourceSentence(total: number, limit: number): string {
  const what = limit === WASM32_BYTES ? 'the 4 GiB a wasm32 memory can address' : `the ${formatBytes(limit)} this runtime let the memory reserve`;
  return (
    `request: cpu-wasm needs ${total} bytes (${formatBytes(total)}) of WebAssembly memory for this call (inputs, outputs, transposed keys, masks, scratch), ` +
    `more than ${what} (${limit} bytes); split the call by batch, heads or query rows`
  );
}

/**
 * Lays out a call in the memory. With one scratch area it needs the most bytes it can do with; more areas (one per
 * thread) are laid out while they fit. A call that does not fit even with one is refused (RESOURCE_LIMIT, before
 * anything is allocated), saying how many bytes it needed.
 */
export function layoutArena(input: ArenaInput): Arena {
  const { plan, table, tiles, threads, chunkPairs } = input;
  const { batch: B, headsQ: Hq, headsKv: Hkv, seqQ: Sq, seqK: Sk, headDim: D, headDimV: Dv } = plan;
  const { blockQ: bq, blockK: bk } = tiles;
  const numKB = Math.ceil(Sk / bk);
  const rowsQ = B * Hq * Sq;
  const mem = new Bump(input.base ?? ARENA_BASE);
  const own = { q: true, k: true, v: true, o: true, kv: true };
  for (const [key, there] of Object.entries(input.resident ?? {})) if (there) own[key as keyof typeof own] = false;
  const kvOwn = own.kv;
  const heads = mem.take(Hq * HEAD_WORDS * 4);
  const prepChunks = mem.take(chunkPairs.prep * 8);
  const topkChunks = mem.take(chunkPairs.topk * 8);
  const attChunks = mem.take(chunkPairs.attend * 8);
  const labelJobs = mem.take(input.labelJobs * LJ_SLOTS * 4);
  const rowPtr = mem.take(table.rowPtr.length * 4);
  const colIdx = mem.take(table.colIdx.length * 4);
  const partialIdx = mem.take(table.partialIdx.length * 4);
  const bits = mem.take(table.bits.length * 4);
  const centroids = mem.take(table.centroids.length * 8);
  const q = own.q ? mem.take(rowsQ * D * 4) : 0;
  const k = own.k && kvOwn ? mem.take(B * Hkv * Sk * D * 4) : 0;
  // Row tails of V (Dv mod 4) are read by scalar code only, but keep 16 bytes of slack after every tensor anyway.
  const v = own.v && kvOwn ? mem.take(B * Hkv * Sk * Dv * 4 + 16) : 0;
  const o = own.o ? mem.take(rowsQ * Dv * 4 + 16) : 0;
  const kt = kvOwn ? mem.take(B * Hkv * numKB * D * bk * 4) : 0;
  const ml = mem.take(rowsQ * 8);
  // Per-row arrays are read four rows at a time: 16 bytes of slack past the last row.
  const thr = table.hasTopk ? mem.take(rowsQ * 4 + 16) : 0;
  const tie = table.hasTopk ? mem.take(rowsQ * 4 + 16) : 0;
  const labelQ = table.hasCluster ? mem.take(rowsQ * 4 + 16) : 0;
  const labelK = mem.take(table.labelGroups.length * B * numKB * bk * 4);
  const vbad = kvOwn ? mem.take(B * Hkv * numKB * bk * 4) : 0;
  const vbadBlock = kvOwn ? mem.take(B * Hkv * numKB * 4) : 0;

  const maxCols = topkColumns(table, bk);
  // Accumulator rows: Dv rounded up to 8 (the P·V pass over V tiles writes whole 8-wide slices).
  const dva = dv8(Dv);
  const { tasks, splits } = input.splits ?? { tasks: 0, splits: 1 };
  const partials = splits > 1 ? mem.take(tasks * splits * bq * (SPLIT_HEAD + dva) * 4) : 0;
  const splitDone = splits > 1 ? mem.take(tasks * 4) : 0;
  const part = new Bump(0);
  const parts = {
    // One group's score tile over a run of adjacent key blocks.
    s: part.take(Math.max(bk, RUN_KEYS) * 16),
    qp: part.take(bq * D * 4),
    m: part.take(bq * 4),
    l: part.take(bq * 4),
    corr: part.take(bq * 4),
    acc: part.take(bq * dva * 4),
    cand: part.take(bq * maxCols * 4),
    sel: part.take(maxCols * 4),
    task: part.take(TASK_BYTES),
  };
  const scratchStride = Math.ceil(part.at / 64) * 64;
  const scratch = mem.take(0);
  const limit = input.maxBytes ?? WASM32_BYTES;
  const scratchSlots = Math.max(1, Math.min(threads, Math.floor((limit - scratch) / scratchStride)));
  const total = scratch + scratchSlots * scratchStride;
  if (total > limit) throw new SparseAttentionError('RESOURCE_LIMIT', resourceSentence(total, limit), { field: 'request' });
  return {
    total,
    heads,
    prepChunks,
    topkChunks,
    attChunks,
    labelJobs,
    rowPtr,
    colIdx,
    partialIdx,
    bits,
    centroids,
    q,
    k,
    v,
    o,
    kt,
    partials,
    splitDone,
    ml,
    thr,
    tie,
    labelQ,
    labelK,
    vbad,
    vbadBlock,
    scratch,
    scratchStride,
    scratchSlots,
    parts,
    dva,
    maxCols,
  };
}
