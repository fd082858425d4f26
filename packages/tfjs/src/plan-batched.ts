import type { BlockMask } from '@sparse/core';
import { type Chunk, type ChunkPlan, FIRST_PARTIAL_TILE, MAX_MARGIN, type Piece, TILE_EMPTY, TILE_FULL, TILE_RAGGED } from './chunk.js';

interface Column {
  /** Key block per row (padding rows filled in), and its tile. */
  kb: Int32Array;
  tile: Int32Array;
  /** Progression kb = a + d·row when regular. */
  a: number;
  d: number;
  regular: boolean;
}

/** Lays out the rows' key-block lists in columns (left-aligned or along the diagonal) and classifies them. */
function layout(rows: number[], lists: { kb: number[]; tile: number[] }[], slotOf: (row: number, at: number) => number, n: number, total: number): Column[] {
  const m = rows.length;
  const columns: Column[] = [];
  for (let s = 0; s < n; s++) columns.push({ kb: new Int32Array(m).fill(-1), tile: new Int32Array(m).fill(TILE_EMPTY), a: 0, d: 0, regular: true });
  lists.forEach((list, row) => {
    list.kb.forEach((kb, at) => {
      const col = columns[slotOf(row, at)]!;
      col.kb[row] = kb;
      col.tile[row] = list.tile[at]!;
    });
  });
  const used = columns.filter((c) => c.kb.some((kb) => kb >= 0));
  for (const col of used) {
    const real: number[] = [];
    col.kb.forEach((kb, row) => {
      if (kb >= 0) real.push(row);
    });
    const r0 = real[0]!;
    const r1 = real.length > 1 ? real[1]! : r0;
    const d = r1 === r0 ? 0 : (col.kb[r1]! - col.kb[r0]!) / (r1 - r0);
    const a = col.kb[r0]! - d * r0;
    const fits = Number.isInteger(d) && d >= 0 && real.every((row) => col.kb[row] === a + d * row);
    col.regular = fits && a >= 0 && a + d * (m - 1) < total;
    if (col.regular) {
      col.a = a;
      col.d = d;
      for (let row = 0; row < m; row++) if (col.kb[row]! < 0) col.kb[row] = a + d * row;
    } else for (let row = 0; row < m; row++) if (col.kb[row]! < 0) col.kb[row] = 0;
  }
  return used;
}

/** Turns classified columns into pieces (regular first, merged where they share blocks; gathered last). */
function toChunk(qBlocks: number[], columns: Column[]): Chunk {
  const m = qBlocks.length;
  const regular = columns.filter((c) => c.regular);
  const irregular = columns.filter((c) => !c.regular);
  const ordered = [...regular, ...irregular];
  const pieces: Piece[] = [];
  for (const col of regular) {
    const last = pieces[pieces.length - 1];
    if (col.d === 0 && last?.kind === 'window' && last.step === 0 && last.start + last.len === col.a) last.len++;
    else pieces.push({ kind: 'window', start: col.a, step: col.d, len: 1 });
  }
  if (irregular.length > 0) {
    const idx = new Int32Array(m * irregular.length);
    irregular.forEach((col, c) => {
      for (let row = 0; row < m; row++) idx[row * irregular.length + c] = col.kb[row]!;
    });
    pieces.push({ kind: 'gather', idx, len: irregular.length });
  }
  const n = ordered.length;
  const tiles = new Int32Array(m * n);
  const shared = irregular.length === 0 && regular.every((c) => c.d === 0);
  const blocks = new Int32Array(shared ? n : m * n);
  ordered.forEach((col, s) => {
    for (let row = 0; row < m; row++) tiles[row * n + s] = col.tile[row]!;
    if (shared) blocks[s] = col.kb[0]!;
    else for (let row = 0; row < m; row++) blocks[row * n + s] = col.kb[row]!;
  });
  return {
    qBlocks: Int32Array.from(qBlocks),
    slots: n,
    pieces,
    shared,
    tiles,
    blocks,
    uniformTiles: ordered.every((col) => col.tile.every((t) => t === col.tile[0])),
    masked: tiles.some((t) => t !== TILE_FULL),
  };
}

function cost(columns: Column[]): number {
  const irregular = columns.filter((c) => !c.regular).length;
  const banded = columns.some((c) => c.d !== 0) ? 1 : 0;
  return irregular * 1e6 + columns.length * 10 + banded;
}

/** The best column layout of a batch of rows: left-aligned lists, or aligned on the block diagonal (bands). */
function bestChunk(mask: BlockMask, rows: number[]): Chunk {
  const { rowPtr, colIdx, partialIdx, numKBlocks, seqK, blockK, blockQ } = mask;
  const ragged = seqK % blockK !== 0;
  const lists = rows.map((qb) => {
    const kb: number[] = [];
    const tile: number[] = [];
    for (let n = rowPtr[qb]!; n < rowPtr[qb + 1]!; n++) {
      const P = partialIdx[n]!;
      kb.push(colIdx[n]! + MAX_MARGIN);
      tile.push(P >= 0 ? FIRST_PARTIAL_TILE + P : ragged && colIdx[n] === numKBlocks - 1 ? TILE_RAGGED : TILE_FULL);
    }
    return { kb, tile };
  });
  const total = numKBlocks + 2 * MAX_MARGIN; // block coordinates include the margins
  const left = layout(rows, lists, (_, at) => at, Math.max(...lists.map((l) => l.kb.length)), total);
  const base = (qb: number) => Math.floor((qb * blockQ) / blockK);
  let relMin = Infinity;
  let relMax = -Infinity;
  lists.forEach((l, row) => {
    for (const kb of l.kb) {
      relMin = Math.min(relMin, kb - base(rows[row]!));
      relMax = Math.max(relMax, kb - base(rows[row]!));
    }
  });
  const width = relMax - relMin + 1;
  if (width > 4 * left.length + 4) return toChunk(rows, left);
  const diag = layout(rows, lists, (row, at) => lists[row]!.kb[at]! - base(rows[row]!) - relMin, width, total);
  return toChunk(rows, cost(diag) < cost(left) ? diag : left);
}

/**
 * Groups the query blocks of a mask by their number of listed key blocks (counts within `padRatio` of a group's
 * largest share it) and splits each group into chunks of consecutive query blocks whose score tensors hold at
 * most `maxElements` elements, `elementsPerSlot` per (query block, slot). Each chunk then reads its key blocks
 * with a few slices (bands, shared prefixes) or one gather (irregular patterns): few ops per chunk, bounded
 * peak memory.
 */
export function planChunks(mask: BlockMask, elementsPerSlot: number, maxElements: number, padRatio = 0.75): ChunkPlan {
  const { numQBlocks, rowPtr } = mask;
  const counts = new Int32Array(numQBlocks);
  for (let qb = 0; qb < numQBlocks; qb++) counts[qb] = rowPtr[qb + 1]! - rowPtr[qb]!;
  const sorted = Array.from({ length: numQBlocks }, (_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const chunks: Chunk[] = [];
  const order: number[] = [];
  let at = 0;
  while (at < sorted.length) {
    const slots = counts[sorted[at]!]!;
    const floor = slots === 0 ? 0 : Math.max(1, Math.ceil(slots * padRatio));
    let end = at;
    while (end < sorted.length && counts[sorted[end]!]! >= floor) end++;
    const group = sorted.slice(at, end).sort((a, b) => a - b);
    at = end;
    if (slots === 0) {
      const empty = new Int32Array(0);
      chunks.push({ qBlocks: Int32Array.from(group), slots: 0, pieces: [], shared: true, tiles: empty, blocks: empty, uniformTiles: true, masked: false });
      order.push(...group);
      continue;
    }
    const perChunk = Math.max(1, Math.floor(maxElements / (elementsPerSlot * slots)));
    for (let c0 = 0; c0 < group.length; c0 += perChunk) {
      const rows = group.slice(c0, c0 + perChunk);
      chunks.push(bestChunk(mask, rows));
      order.push(...rows);
    }
  }
  const natural = order.every((qb, i) => qb === i);
  return { chunks, margin: MAX_MARGIN, order: natural ? null : Int32Array.from(order) };
}
