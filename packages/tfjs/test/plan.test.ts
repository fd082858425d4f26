import { causal, compileBlockMask, local } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { TILE_FULL, tileBank } from '../src/chunk.js';
import { planChunks } from '../src/plan-batched.js';
import { planShared } from '../src/plan-plain.js';

const tiles = { blockQ: 64, blockK: 64 };
const shape = (n: number) => ({ seqQ: n, seqK: n, offset: 0 });

describe('chunk planning', () => {
  it('reads a band (local L=R=128) with slices only: one window per column, a handful of chunks', () => {
    const mask = compileBlockMask(local(128), shape(4096), tiles);
    const plan = planChunks(mask, 64 * 64, 1 << 22);
    expect(plan.chunks.length).toBeLessThanOrEqual(4);
    for (const chunk of plan.chunks) expect(chunk.pieces.every((p) => p.kind === 'window')).toBe(true);
    const covered = plan.chunks.flatMap((c) => [...c.qBlocks]).sort((a, b) => a - b);
    expect(covered).toEqual(Array.from({ length: mask.numQBlocks }, (_, i) => i));
  });

  it('gives causal rows one shared key prefix per chunk (no per-row key copies)', () => {
    const mask = compileBlockMask(causal(), shape(2048), tiles);
    const plan = planChunks(mask, 64 * 64, 1 << 30);
    for (const chunk of plan.chunks) {
      expect(chunk.shared).toBe(true);
      expect(chunk.pieces).toHaveLength(1);
    }
    // Padded work stays bounded: at most 4/3 of the listed blocks.
    const work = plan.chunks.reduce((n, c) => n + c.qBlocks.length * c.slots, 0);
    expect(work).toBeLessThanOrEqual((mask.colIdx.length * 4) / 3 + 1);
  });

  it('falls back to one gather for scattered key blocks', () => {
    const mask = compileBlockMask({ kind: 'randomBlocks', block: 64, perRow: 3, seed: 5 }, shape(4096), tiles);
    const plan = planChunks(mask, 64 * 64, 1 << 22);
    expect(plan.chunks.some((c) => c.pieces.some((p) => p.kind === 'gather'))).toBe(true);
  });

  it('plain products: consecutive query blocks share the union of their key blocks, at least 40% of it listed', () => {
    const mask = compileBlockMask(local(128), shape(8192), tiles);
    const plan = planShared(mask, 64, 1 << 22);
    let next = 0;
    for (const chunk of plan.chunks) {
      expect(chunk.shared).toBe(true);
      expect(chunk.qBlocks[0]).toBe(next);
      next += chunk.qBlocks.length;
      const listed = chunk.tiles.filter((t) => t !== 1).length;
      expect(listed / chunk.tiles.length).toBeGreaterThanOrEqual(0.4);
      expect(chunk.qBlocks.length * 64).toBeLessThanOrEqual(512);
    }
    expect(next).toBe(mask.numQBlocks);
    expect(plan.order).toBeNull();
  });

  it('builds the tile bank from the mask bits (full, empty, ragged, partial)', () => {
    const mask = compileBlockMask(causal(), shape(100), { blockQ: 32, blockK: 32 });
    const bank = tileBank(mask);
    const area = 32 * 32;
    expect(bank.subarray(TILE_FULL * area, area).every((b) => b === 1)).toBe(true);
    expect(bank.subarray(area, 2 * area).every((b) => b === 0)).toBe(true);
    // Ragged tile: 100 = 3·32 + 4 keys in the last block.
    expect(Array.from(bank.subarray(2 * area, 2 * area + 32))).toEqual(Array.from({ length: 32 }, (_, c) => (c < 4 ? 1 : 0)));
    // The diagonal tile: row r keeps keys c <= r.
    const diag = bank.subarray(3 * area, 4 * area);
    expect(diag[5 * 32 + 5]).toBe(1);
    expect(diag[5 * 32 + 6]).toBe(0);
  });
});
