import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachAllowedKey } from '../src/entry/backend.js';
import { makePredicate } from '../src/entry/reference.js';
import { type BlockMask, BlockMaskCache, compileBlockMask, local, longformer, type Pattern } from '../src/index.js';
import { patternArb, type Shape, shapeArb, tilesArb } from './arbitraries.js';
import { bruteRows } from './helpers.js';

function maskRows(mask: BlockMask): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < mask.seqQ; i++) {
    const r: number[] = [];
    forEachAllowedKey(mask, i, (j) => r.push(j));
    rows.push(r);
  }
  return rows;
}

/** Structural invariants every mask must keep, checked block by block. */
function checkInvariants(mask: BlockMask, allowed: (i: number, j: number) => boolean): void {
  const { blockQ, blockK, seqQ, seqK } = mask;
  let nnz = 0;
  for (let qb = 0; qb < mask.numQBlocks; qb++) {
    let prev = -1;
    for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
      const kb = mask.colIdx[n]!;
      expect(kb).toBeGreaterThan(prev);
      prev = kb;
      let count = 0;
      let pairs = 0;
      for (let i = qb * blockQ; i < Math.min((qb + 1) * blockQ, seqQ); i++)
        for (let j = kb * blockK; j < Math.min((kb + 1) * blockK, seqK); j++) {
          pairs++;
          if (allowed(i, j)) count++;
        }
      expect(count).toBeGreaterThan(0); // no listed block is empty
      if (mask.partialIdx[n]! < 0) expect(count).toBe(pairs);
      else expect(count).toBeLessThan(pairs); // a partial block is really partial
      nnz += count;
    }
  }
  expect(mask.stats.nnz).toBe(nnz);
  expect(mask.stats.fullBlocks + mask.stats.partialBlocks + mask.stats.skippedBlocks).toBe(mask.numQBlocks * mask.numKBlocks);
}

describe('block-mask compiler', () => {
  it('equals the element predicate for random patterns, shapes and tile sizes (property)', () => {
    const arb = shapeArb.chain((shape: Shape) => fc.tuple(fc.constant(shape), patternArb(shape), tilesArb));
    fc.assert(
      fc.property(arb, ([shape, pattern, tiles]) => {
        const mask = compileBlockMask(pattern, shape, tiles);
        const allowed = makePredicate(pattern, shape);
        expect(maskRows(mask)).toEqual(bruteRows(allowed, shape.seqQ, shape.seqK));
        checkInvariants(mask, allowed);
      }),
      { numRuns: 600, seed: 20261129 },
    );
  });

  it('equals the predicate on longer sequences with small tiles, where tiles repeat and are shared (property)', () => {
    const longShape = fc.integer({ min: 40, max: 160 }).chain((n) =>
      fc.oneof(
        fc.constant({ seqQ: n, seqK: n, offset: 0 }),
        fc.integer({ min: 1, max: n }).map((sq) => ({ seqQ: sq, seqK: n, offset: n - sq })),
      ),
    );
    const arb = longShape.chain((shape: Shape) =>
      fc.tuple(fc.constant(shape), patternArb(shape), fc.record({ blockQ: fc.integer({ min: 1, max: 16 }), blockK: fc.integer({ min: 1, max: 40 }) })),
    );
    fc.assert(
      fc.property(arb, ([shape, pattern, tiles]) => {
        const mask = compileBlockMask(pattern, shape, tiles);
        const allowed = makePredicate(pattern, shape);
        expect(maskRows(mask)).toEqual(bruteRows(allowed, shape.seqQ, shape.seqK));
        checkInvariants(mask, allowed);
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  it('reports exact statistics for a sliding window', () => {
    const mask = compileBlockMask(local(2), { seqQ: 10, seqK: 10, offset: 0 }, { blockQ: 4, blockK: 4 });
    // nnz of a ±2 band on 10 tokens: 10·5 - 2·(1 + 2) = 44.
    expect(mask.stats.nnz).toBe(44);
    expect(mask.stats.density).toBeCloseTo(0.44, 12);
    expect(mask.stats.fullBlocks + mask.stats.partialBlocks).toBe(mask.colIdx.length);
  });

  it('classifies interior band blocks as full and edges as partial', () => {
    const mask = compileBlockMask(local(256), { seqQ: 4096, seqK: 4096, offset: 0 }, { blockQ: 64, blockK: 64 });
    const qb = 32;
    const listed = Array.from(mask.colIdx.subarray(mask.rowPtr[qb]!, mask.rowPtr[qb + 1]!));
    expect(listed).toEqual([28, 29, 30, 31, 32, 33, 34, 35, 36]);
    const kinds = Array.from(mask.partialIdx.subarray(mask.rowPtr[qb]!, mask.rowPtr[qb + 1]!)).map((p) => (p < 0 ? 'F' : 'P'));
    expect(kinds.join('')).toBe('PFFFFFFFP');
  });

  it('memory follows the listed blocks, not Sq·Sk (131072 tokens)', () => {
    const n = 131072;
    const mask = compileBlockMask(
      longformer({ attentionWindow: 512, dilation: 2, globalTokens: [0, 1, 2, 3] }),
      { seqQ: n, seqK: n, offset: 0 },
      { blockQ: 64, blockK: 64 },
    );
    const listed = mask.colIdx.length;
    expect(mask.stats.skippedBlocks).toBeGreaterThan(0.9 * mask.numQBlocks * mask.numKBlocks);
    // rowPtr + colIdx + partialIdx + bits of partial blocks only.
    expect(mask.stats.bytes).toBe(4 * (mask.numQBlocks + 1) + 8 * listed + 4 * mask.stats.storedTiles * 64 * 2);
    // identical diagonal tiles are stored once
    expect(mask.stats.storedTiles).toBeLessThan(mask.stats.partialBlocks / 5);
    expect(mask.stats.bytes).toBeLessThan((n * n) / 8 / 10); // a tenth of even a dense bitmap
  });

  it('caches by canonical pattern, shapes and tiles', () => {
    const cache = new BlockMaskCache(4);
    const a: Pattern = { kind: 'union', of: [local(3), { kind: 'causal' }] };
    const b: Pattern = { kind: 'union', of: [{ kind: 'causal' }, { kind: 'local', right: 3, left: 3 }] };
    const m1 = cache.get(a, { seqQ: 50, seqK: 50, offset: 0 }, { blockQ: 16, blockK: 16 });
    const m2 = cache.get(b, { seqQ: 50, seqK: 50, offset: 0 }, { blockQ: 16, blockK: 16 });
    expect(m2).toBe(m1);
    expect(cache.get(a, { seqQ: 50, seqK: 50, offset: 0 }, { blockQ: 32, blockK: 16 })).not.toBe(m1);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(2);
  });

  it('rejects bad tile sizes with a named field', () => {
    expect(() => compileBlockMask(local(1), { seqQ: 4, seqK: 4, offset: 0 }, { blockQ: 0, blockK: 4 })).toThrow(/tiles.blockQ/);
  });
});
