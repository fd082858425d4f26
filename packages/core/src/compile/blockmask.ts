import { fail } from '../errors.js';
import { patternKey } from '../pattern/canonical.js';
import type { Pattern } from '../pattern/types.js';
import { popcount32 } from './bits.js';
import { buildNode } from './nodes.js';
import { FULL, PARTIAL } from './runs.js';

/** Tile sizes a backend asks the compiler for. */
export interface TileSizes {
  blockQ: number;
  blockK: number;
}

export interface BlockMaskStats {
  /** Allowed (query, key) pairs, exact. */
  nnz: number;
  /** nnz / (Sq · Sk). */
  density: number;
  fullBlocks: number;
  partialBlocks: number;
  /** Blocks of the Sq × Sk grid that are not listed. */
  skippedBlocks: number;
  /** nnz / in-range pairs of the listed blocks: how much of the visited work is useful. */
  blockEfficiency: number;
  /** Distinct bitmask tiles stored (partial blocks may share one). */
  storedTiles: number;
  /** Bytes held by the mask's arrays. */
  bytes: number;
}

/**
 * FlexAttention's BlockMask, made portable (docs/design.md, Block masks). For query block qb, the key blocks to visit are
 * colIdx[rowPtr[qb] .. rowPtr[qb + 1]), increasing. partialIdx[n] is -1 for a full block (every in-range pair
 * allowed: kernels only bound-check the ragged last tile) or the index P of its bitmask: row r (0 ≤ r < blockQ)
 * of that block starts at bits[(P · blockQ + r) · wordsPerRow], and key column c is bit (c & 31) of word c >> 5.
 * Bits of rows ≥ Sq and keys ≥ Sk are zero. Partial blocks with identical bits may share one P (translation-
 * invariant bands repeat the same few tiles along the diagonal), so bits holds `storedTiles` tiles.
 */
export interface BlockMask {
  readonly seqQ: number;
  readonly seqK: number;
  readonly offset: number;
  readonly blockQ: number;
  readonly blockK: number;
  readonly numQBlocks: number;
  readonly numKBlocks: number;
  readonly wordsPerRow: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly partialIdx: Int32Array;
  readonly bits: Uint32Array;
  readonly stats: BlockMaskStats;
}

class Int32Builder {
  data = new Int32Array(256);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = x;
  }
  grow(min: number): void {
    const next = new Int32Array(Math.max(min, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  done(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

class Uint32Builder {
  data = new Uint32Array(1024);
  length = 0;
  append(src: Uint32Array, count: number): void {
    if (this.length + count > this.data.length) {
      const next = new Uint32Array(Math.max(this.length + count, this.data.length * 2));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(src.subarray(0, count), this.length);
    this.length += count;
  }
  done(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

function checkTile(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 4096) fail('INVALID_ARGUMENT', field, 'must be an integer tile size in [1, 4096]', value);
}

/**
 * Compiles a static pattern (or the `within` of a content-based one) into a BlockMask, analytically per query
 * block: each node classifies key blocks as skipped / partial / full from ranges, residues and sets; only the
 * blocks left partial get bitmasks (one row of words per query row), after which an all-zero block is dropped
 * and an all-ones block promoted to full. Work and memory are proportional to the listed blocks, never Sq · Sk.
 */
export function compileBlockMask(pattern: Pattern, shape: { seqQ: number; seqK: number; offset: number }, tiles: TileSizes): BlockMask {
  const { seqQ, seqK, offset } = shape;
  const { blockQ, blockK } = tiles;
  checkTile(blockQ, 'tiles.blockQ');
  checkTile(blockK, 'tiles.blockK');
  const numQBlocks = Math.ceil(seqQ / blockQ);
  const numKBlocks = Math.ceil(seqK / blockK);
  const wordsPerRow = (blockK + 31) >>> 5;
  const root = buildNode(pattern, { seqQ, seqK, offset, blockQ, blockK, numKBlocks, words: wordsPerRow });

  const rowPtr = new Int32Array(numQBlocks + 1);
  const cols = new Int32Builder();
  const partial = new Int32Builder();
  const bits = new Uint32Builder();
  const tile = new Uint32Array(blockQ * wordsPerRow);
  let nnz = 0;
  let listedPairs = 0;
  let fullBlocks = 0;
  let partialBlocks = 0;
  let storedTiles = 0;

  for (let qb = 0; qb < numQBlocks; qb++) {
    const i0 = qb * blockQ;
    const i1 = Math.min(i0 + blockQ, seqQ);
    const rows = i1 - i0;
    const runs = root.runs(i0, i1);
    for (let r = 0; r < runs.vals.length; r++) {
      const v = runs.vals[r]!;
      if (v !== FULL && v !== PARTIAL) continue;
      const end = r + 1 < runs.starts.length ? runs.starts[r + 1]! : numKBlocks;
      for (let kb = runs.starts[r]!; kb < end; kb++) {
        const j0 = kb * blockK;
        const width = Math.min(blockK, seqK - j0);
        const pairs = rows * width;
        if (v === FULL) {
          cols.push(kb);
          partial.push(-1);
          nnz += pairs;
          listedPairs += pairs;
          fullBlocks++;
          continue;
        }
        const shared = root.memo?.(i0, i1, j0, width) ?? null;
        let count: number;
        if (shared) count = shared.count;
        else {
          tile.fill(0);
          root.tile(i0, i1, j0, width, tile);
          count = 0;
          for (let w = 0; w < rows * wordsPerRow; w++) if (tile[w] !== 0) count += popcount32(tile[w]!);
        }
        if (count === 0) continue;
        cols.push(kb);
        nnz += count;
        listedPairs += pairs;
        if (count === pairs) {
          partial.push(-1);
          fullBlocks++;
          continue;
        }
        partialBlocks++;
        if (shared && shared.stored >= 0) {
          partial.push(shared.stored); // an identical tile is already stored: share it
          continue;
        }
        partial.push(storedTiles);
        if (shared) shared.stored = storedTiles;
        bits.append(shared ? shared.bits : tile, tile.length);
        storedTiles++;
      }
    }
    rowPtr[qb + 1] = cols.length;
  }

  const col = cols.done();
  const pidx = partial.done();
  const bitData = bits.done();
  const listed = col.length;
  return {
    seqQ,
    seqK,
    offset,
    blockQ,
    blockK,
    numQBlocks,
    numKBlocks,
    wordsPerRow,
    rowPtr,
    colIdx: col,
    partialIdx: pidx,
    bits: bitData,
    stats: {
      nnz,
      density: nnz / (seqQ * seqK),
      fullBlocks,
      partialBlocks,
      skippedBlocks: numQBlocks * numKBlocks - listed,
      blockEfficiency: listedPairs === 0 ? 1 : nnz / listedPairs,
      storedTiles,
      bytes: rowPtr.byteLength + col.byteLength + pidx.byteLength + bitData.byteLength,
    },
  };
}

/** An LRU cache of compiled masks keyed by (canonical pattern, shapes, tiles). */
export class BlockMaskCache {
  private readonly entries = new Map<string, BlockMask>();
  hits = 0;
  misses = 0;
  constructor(readonly capacity = 32) {}

  get(pattern: Pattern, shape: { seqQ: number; seqK: number; offset: number }, tiles: TileSizes): BlockMask {
    const key = `${patternKey(pattern)}|${shape.seqQ}|${shape.seqK}|${shape.offset}|${tiles.blockQ}x${tiles.blockK}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.misses++;
    const mask = compileBlockMask(pattern, shape, tiles);
    this.entries.set(key, mask);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return mask;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Calls fn(j) for every allowed key j of query row i, in increasing order, according to the mask. */
export function forEachAllowedKey(mask: BlockMask, i: number, fn: (j: number) => void): void {
  const qb = Math.floor(i / mask.blockQ);
  const r = i - qb * mask.blockQ;
  for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
    const j0 = mask.colIdx[n]! * mask.blockK;
    const P = mask.partialIdx[n]!;
    if (P < 0) {
      const j1 = Math.min(j0 + mask.blockK, mask.seqK);
      for (let j = j0; j < j1; j++) fn(j);
      continue;
    }
    const off = (P * mask.blockQ + r) * mask.wordsPerRow;
    for (let w = 0; w < mask.wordsPerRow; w++) {
      let word = mask.bits[off + w]!;
      while (word !== 0) {
        fn(j0 + w * 32 + (31 - Math.clz32(word & -word)));
        word &= word - 1;
      }
    }
  }
}
