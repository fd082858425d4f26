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

/** The additive mask of a chunk, [uniform ? 1 : m, blockQ · cols]: 0 where kept, -big elsewhere. */
export function chunkMask(chunk: Chunk, bank: Uint8Array, blockQ: number, blockK: number, big: number): Float32Array {
  const m = chunk.uniformTiles ? 1 : chunk.qBlocks.length;
  const n = chunk.slots;
  const cols = n * blockK;
  const out = new Float32Array(m * blockQ * cols);
  const area = blockQ * blockK;
  for (let row = 0; row < m; row++)
    for (let s = 0; s < n; s++) {
      const tile = chunk.tiles[row * n + s]!;
      if (tile === TILE_FULL) continue;
      const src = tile * area;
      for (let r = 0; r < blockQ; r++) {
        const dst = (row * blockQ + r) * cols + s * blockK;
        for (let c = 0; c < blockK; c++) if (bank[src + r * blockK + c] === 0) out[dst + c] = -big;
      }
    }
  return out;
}
