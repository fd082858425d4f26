import { type BlockMask, compileBlockMask, type Pattern } from './sparse.js';

/** Reading core's BlockMask format (docs/design.md, Block masks) without ever expanding it to Sq × Sk. */

export interface Compiled {
  mask: BlockMask;
  ms: number;
  /** Allowed pairs per stored bit tile, filled on first use. */
  tileCounts: Int32Array;
}

/** The tile edge the picture compiles with: 0 = from the size, so the grid stays around a few hundred tiles a side. */
export function tileFor(requested: number, sq: number, sk: number): number {
  if (requested > 0) return requested;
  const n = Math.max(sq, sk);
  let t = 16;
  while (t < 256 && n / t > 512) t *= 2;
  return t;
}

export function compile(pattern: Pattern, sq: number, sk: number, tile: number): Compiled {
  const t0 = performance.now();
  const mask = compileBlockMask(pattern, { seqQ: sq, seqK: sk, offset: sk - sq }, { blockQ: tile, blockK: tile });
  const ms = performance.now() - t0;
  return { mask, ms, tileCounts: new Int32Array(mask.stats.storedTiles).fill(-1) };
}

/** Index n into colIdx of block (qb, kb), or -1 when the block is not listed. */
export function findBlock(mask: BlockMask, qb: number, kb: number): number {
  let lo = mask.rowPtr[qb]!;
  let hi = mask.rowPtr[qb + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = mask.colIdx[mid]!;
    if (c === kb) return mid;
    if (c < kb) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** Bit of row r, column c in stored tile P. */
export function tileBit(mask: BlockMask, P: number, r: number, c: number): boolean {
  const w = mask.bits[(P * mask.blockQ + r) * mask.wordsPerRow + (c >>> 5)]!;
  return ((w >>> (c & 31)) & 1) === 1;
}

/** allowed(i, j) read from the mask: unlisted → no, full → yes, partial → its bit. */
export function maskAllows(mask: BlockMask, i: number, j: number): boolean {
  if (i < 0 || j < 0 || i >= mask.seqQ || j >= mask.seqK) return false;
  const qb = Math.floor(i / mask.blockQ);
  const kb = Math.floor(j / mask.blockK);
  const n = findBlock(mask, qb, kb);
  if (n < 0) return false;
  const P = mask.partialIdx[n]!;
  return P < 0 || tileBit(mask, P, i - qb * mask.blockQ, j - kb * mask.blockK);
}

export type TileStatus = 'full' | 'partial' | 'empty';

export function tileStatus(mask: BlockMask, qb: number, kb: number): TileStatus {
  const n = findBlock(mask, qb, kb);
  if (n < 0) return 'empty';
  return mask.partialIdx[n]! < 0 ? 'full' : 'partial';
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Set bits of row r of tile P among columns [c0, c1). */
export function rowCount(mask: BlockMask, P: number, r: number, c0: number, c1: number): number {
  if (c1 <= c0) return 0;
  const base = (P * mask.blockQ + r) * mask.wordsPerRow;
  let n = 0;
  for (let w = c0 >>> 5; w <= (c1 - 1) >>> 5; w++) {
    let word = mask.bits[base + w]!;
    const lo = w * 32;
    if (c0 > lo) word &= ~0 << (c0 - lo);
    if (c1 < lo + 32) word &= (1 << (c1 - lo)) - 1;
    n += popcount(word >>> 0);
  }
  return n;
}

/** Allowed pairs in stored tile P (cached). */
export function tileCount(c: Compiled, P: number): number {
  const cached = c.tileCounts[P]!;
  if (cached >= 0) return cached;
  const { mask } = c;
  let n = 0;
  const start = P * mask.blockQ * mask.wordsPerRow;
  for (let w = 0; w < mask.blockQ * mask.wordsPerRow; w++) n += popcount(mask.bits[start + w]!);
  c.tileCounts[P] = n;
  return n;
}

/** Allowed keys of query row i (exact), from the mask: what a top-k row chooses among. */
export function rowNnz(mask: BlockMask, i: number): number {
  const qb = Math.floor(i / mask.blockQ);
  const r = i - qb * mask.blockQ;
  let n = 0;
  for (let x = mask.rowPtr[qb]!; x < mask.rowPtr[qb + 1]!; x++) {
    const kb = mask.colIdx[x]!;
    const width = Math.min(mask.blockK, mask.seqK - kb * mask.blockK);
    const P = mask.partialIdx[x]!;
    n += P < 0 ? width : rowCount(mask, P, r, 0, width);
  }
  return n;
}

/** Largest block mask the picture compiles (bytes), and the longest compile it starts (ms, extrapolated). */
export const MASK_BUDGET = { bytes: 256 * 2 ** 20, ms: 5000 };

/**
 * What compiling at (sq, sk) would cost, extrapolated from the same pattern at 1/16 and 1/8 of the size: a band
 * grows like N, a triangle of partial tiles like N². null when the size is small enough to just compile.
 */
export function estimateCost(pattern: Pattern, sq: number, sk: number, tile: number): { bytes: number; ms: number; growth: number } | null {
  if (sq * sk <= 16384 * 16384) return null;
  const at = (f: number) => compile(pattern, Math.max(1, Math.round(sq / f)), Math.max(1, Math.round(sk / f)), tile);
  const a = at(16);
  const b = at(8);
  const growth = Math.min(2, Math.max(1, Math.log2(Math.max(1, b.mask.stats.bytes) / Math.max(1, a.mask.stats.bytes)) / Math.log2(2)));
  return { bytes: b.mask.stats.bytes * 8 ** growth, ms: Math.max(b.ms, 0.1) * 8 ** growth, growth };
}
