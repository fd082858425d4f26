import type { BlockMask } from '@sparse/core';

/** Tile ids: every listed (query block, slot) points at one tile of keep bits (see tileBank). */
export const TILE_FULL = 0;
export const TILE_EMPTY = 1;
export const TILE_RAGGED = 2;
export const FIRST_PARTIAL_TILE = 3;

/** Most empty blocks added at each end of k/v so that padding slots can continue a column's progression. */
export const MAX_MARGIN = 8;

/**
 * How one run of columns (key-block slots) of a chunk reads k/v blocks, in block coordinates that include the
 * margin (block b of k is at b + margin):
 * - `window`, step 0: the same `len` consecutive blocks for every row (one slice, shared by the rows);
 * - `window`, step d >= 1, len 1: row r reads block start + d·r (one slice or strided slice: bands);
 * - `gather`: anything else, idx [m, len] (one gather); in a shared chunk idx [len].
 */
export type Piece = { kind: 'window'; start: number; step: number; len: number } | { kind: 'gather'; idx: Int32Array; len: number };

/** One batch of query blocks that run together with the same columns. */
export interface Chunk {
  /** The m query blocks of the batch. */
  qBlocks: Int32Array;
  /** Columns (key blocks per row), in the order of the pieces. */
  slots: number;
  pieces: Piece[];
  /** Every row reads the same key blocks: q rows of all m blocks multiply one [cols, D] key matrix. */
  shared: boolean;
  /** [m, slots] tile id per (row, column), in piece order. */
  tiles: Int32Array;
  /** Key block (margin coordinates) per (row, column) in piece order: [m, slots], or [slots] when shared. */
  blocks: Int32Array;
  /** Every column has the same tile in every row: one mask row serves the whole chunk. */
  uniformTiles: boolean;
  /** Whether any (row, column) needs a mask (a tile other than TILE_FULL). */
  masked: boolean;
}

export interface ChunkPlan {
  chunks: Chunk[];
  /** Empty blocks to add at each end of the key blocks. */
  margin: number;
  /** The query blocks in the order the chunks produce them; null when that is 0, 1, 2, … already. */
  order: Int32Array | null;
}

/**
 * Keep bits of every tile as 0/1 bytes, [tiles, blockQ · blockK]: tile 0 all kept (a full block), tile 1 none
 * (a padding slot), tile 2 the ragged last key block (keys >= Sk dropped), then the mask's stored partial tiles.
 */
export function tileBank(mask: BlockMask): Uint8Array {
  const { blockQ, blockK, seqK, numKBlocks, wordsPerRow, bits } = mask;
  const area = blockQ * blockK;
  const stored = bits.length / (blockQ * wordsPerRow);
  const data = new Uint8Array((FIRST_PARTIAL_TILE + stored) * area);
  data.fill(1, 0, area);
  const lastWidth = seqK - (numKBlocks - 1) * blockK;
  for (let r = 0; r < blockQ; r++) data.fill(1, TILE_RAGGED * area + r * blockK, TILE_RAGGED * area + r * blockK + lastWidth);
  for (let P = 0; P < stored; P++) {
    const base = (FIRST_PARTIAL_TILE + P) * area;
    for (let r = 0; r < blockQ; r++) {
      const w0 = (P * blockQ + r) * wordsPerRow;
      for (let c = 0; c < blockK; c++) if ((bits[w0 + (c >>> 5)]! >>> (c & 31)) & 1) data[base + r * blockK + c] = 1;
    }
  }
  return data;
}

/** The keep bits of a chunk on the host, expanded to the full [m, group · blockQ, cols] shape of its scores. */
export interface ChunkKeep {
  /** 1 where the key is allowed (bool data). */
  keep: Uint8Array;
  /** Per row [m, group · blockQ, 1]: 1 when the row has an allowed key, else 0. */
  hasKey: Float32Array;
  /** Per row: -Infinity when the row has an allowed key, else 0 (what masked scores become; see attend.ts). */
  floor: Float32Array;
  shape: [number, number, number];
}

/** The keep bits of every row of a chunk, repeated for the `group` query heads that share the rows' kv head. */
export function chunkKeep(chunk: Chunk, bank: Uint8Array, blockQ: number, blockK: number, group: number): ChunkKeep {
  const m = chunk.qBlocks.length;
  const n = chunk.slots;
  const cols = n * blockK;
  const rows = group * blockQ;
  const keep = new Uint8Array(m * rows * cols);
  const hasKey = new Float32Array(m * rows);
  const area = blockQ * blockK;
  for (let row = 0; row < m; row++) {
    const tileRow = chunk.uniformTiles ? 0 : row;
    for (let s = 0; s < n; s++) {
      const src = chunk.tiles[tileRow * n + s]! * area;
      for (let r = 0; r < blockQ; r++) {
        const bits = bank.subarray(src + r * blockK, src + (r + 1) * blockK);
        keep.set(bits, (row * rows + r) * cols + s * blockK);
      }
    }
    for (let r = 0; r < blockQ; r++) {
      const line = keep.subarray((row * rows + r) * cols, (row * rows + r + 1) * cols);
      hasKey[row * rows + r] = line.includes(1) ? 1 : 0;
    }
    // The other heads of the group read the same rows.
    const first = keep.subarray(row * rows * cols, (row * rows + blockQ) * cols);
    for (let g = 1; g < group; g++) {
      keep.set(first, (row * rows + g * blockQ) * cols);
      hasKey.copyWithin(row * rows + g * blockQ, row * rows, row * rows + blockQ);
    }
  }
  const floor = hasKey.map((h) => (h ? Number.NEGATIVE_INFINITY : 0));
  return { keep, hasKey, floor, shape: [m, rows, cols] };
}

/**
 * The arranged key blocks a plan reads, [start, start + blocks) in margin coordinates, and the plan with every
 * block coordinate moved down by `start`: only those blocks of k and v need to be cleaned and arranged (a decode
 * step's window, not the whole cache).
 */
export interface KeySpan {
  plan: ChunkPlan;
  start: number;
  blocks: number;
}

export function keySpan(plan: ChunkPlan): KeySpan {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  // `blocks` holds every (row, column) a chunk reads, padding rows included; its pieces read only those.
  for (const c of plan.chunks)
    for (const b of c.blocks) {
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
  if (lo > hi) return { plan, start: 0, blocks: 1 }; // no key block listed: one empty block to read from
  if (lo === 0) return { plan, start: 0, blocks: hi + 1 };
  const chunks = plan.chunks.map(
    (c): Chunk => ({
      ...c,
      blocks: c.blocks.map((b) => b - lo),
      pieces: c.pieces.map((p): Piece => (p.kind === 'window' ? { ...p, start: p.start - lo } : { ...p, idx: p.idx.map((b) => b - lo) })),
    }),
  );
  return { plan: { ...plan, chunks }, start: lo, blocks: hi - lo + 1 };
}
