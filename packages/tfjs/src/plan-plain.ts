import type { BlockMask } from '@sparse/core';
import { type Chunk, type ChunkPlan, FIRST_PARTIAL_TILE, MAX_MARGIN, type Piece, TILE_EMPTY, TILE_FULL, TILE_RAGGED } from './chunk.js';

/**
 * Chunks of consecutive query blocks that all read the union of their key blocks (one key matrix per chunk):
 * a chunk grows while it stays under `targetRows` query rows and `maxElements` scores and while at least
 * `minEfficiency` of its (row block, key block) pairs are listed. More score work than planChunks, but every
 * product is a plain [rows, D] × [D, cols] matrix product, which some backends run far faster than a batched
 * one (tf.js wasm: XNNPACK for batch 1 only).
 */
export function planShared(mask: BlockMask, rowsPerBlock: number, maxElements: number, targetRows = 512, minEfficiency = 0.4): ChunkPlan {
  const { numQBlocks, rowPtr, colIdx, blockK } = mask;
  const chunks: Chunk[] = [];
  let qb = 0;
  while (qb < numQBlocks) {
    const union = new Set<number>();
    for (let n = rowPtr[qb]!; n < rowPtr[qb + 1]!; n++) union.add(colIdx[n]!);
    let listed = union.size;
    let end = qb + 1;
    while (end < numQBlocks && (end - qb + 1) * rowsPerBlock <= targetRows) {
      const extra: number[] = [];
      for (let n = rowPtr[end]!; n < rowPtr[end + 1]!; n++) if (!union.has(colIdx[n]!)) extra.push(colIdx[n]!);
      const size = union.size + extra.length;
      const count = rowPtr[end + 1]! - rowPtr[end]!;
      const m = end - qb + 1;
      if ((listed + count) / (m * size) < minEfficiency || m * rowsPerBlock * size * blockK > maxElements) break;
      for (const kb of extra) union.add(kb);
      listed += count;
      end++;
    }
    chunks.push(
      sharedChunk(
        mask,
        qb,
        end,
        [...union].sort((a, b) => a - b),
      ),
    );
    qb = end;
  }
  return { chunks, margin: MAX_MARGIN, order: null };
}

function sharedChunk(mask: BlockMask, qb0: number, qb1: number, union: number[]): Chunk {
  const { rowPtr, colIdx, partialIdx, numKBlocks, seqK, blockK } = mask;
  const ragged = seqK % blockK !== 0;
  const m = qb1 - qb0;
  const n = union.length;
  const column = new Map(union.map((kb, c) => [kb, c]));
  const tiles = new Int32Array(m * n).fill(TILE_EMPTY);
  for (let row = 0; row < m; row++)
    for (let at = rowPtr[qb0 + row]!; at < rowPtr[qb0 + row + 1]!; at++) {
      const kb = colIdx[at]!;
      const P = partialIdx[at]!;
      tiles[row * n + column.get(kb)!] = P >= 0 ? FIRST_PARTIAL_TILE + P : ragged && kb === numKBlocks - 1 ? TILE_RAGGED : TILE_FULL;
    }
  const runs: [number, number][] = [];
  for (const kb of union) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === kb + MAX_MARGIN) last[1]++;
    else runs.push([kb + MAX_MARGIN, 1]);
  }
  const pieces: Piece[] =
    runs.length <= 16
      ? runs.map(([start, len]) => ({ kind: 'window', start, step: 0, len }))
      : [{ kind: 'gather', idx: Int32Array.from(union, (kb) => kb + MAX_MARGIN), len: n }];
  let uniformTiles = true;
  for (let c = 0; c < n && uniformTiles; c++) for (let row = 1; row < m; row++) if (tiles[row * n + c] !== tiles[c]) uniformTiles = false;
  return {
    qBlocks: Int32Array.from({ length: m }, (_, i) => qb0 + i),
    slots: n,
    pieces,
    shared: true,
    tiles,
    blocks: Int32Array.from(union, (kb) => kb + MAX_MARGIN),
    uniformTiles,
    masked: tiles.some((t) => t !== TILE_FULL),
  };
}
