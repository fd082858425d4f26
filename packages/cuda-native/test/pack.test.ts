import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxAbsDiff, uniform } from '@sparse/conformance/testing';
import { BlockMaskCache } from '@sparse/core';
import { HEAD_FIELD, HEAD_MODE, HEAD_WORDS, headTableSource, planAttention, topkCut } from '@sparse/core/backend';
import { referenceAttention64 } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS build script
import { headTableHeader, writeHeadTable } from '../scripts/head-table.mjs';
import { PACKAGE_DIR } from '../src/loader.js';
import { packRequest } from '../src/pack.js';
import { CASES } from './cases.js';
import { emulate, fromOrdered, orderedBits, radixSelect } from './emulator.js';

// The kernels' tile configurations: CUDA-core 32x32, tensor-core tiers 64x64 (D <= 128) and 64x32 (D <= 256).
const TILES = [
  { kernel: 0, blockQ: 32, blockK: 32 },
  { kernel: 2, blockQ: 64, blockK: 64 },
  { kernel: 3, blockQ: 64, blockK: 32 },
];

describe('packRequest: the packed arguments, read the way the kernels read them, give the reference results', () => {
  for (const c of CASES)
    for (const tiles of TILES)
      it(`${c.id} (tiles ${tiles.blockQ}x${tiles.blockK})`, () => {
        const req = c.make();
        const plan = planAttention(req);
        const args = packRequest(req, plan, tiles, new BlockMaskCache(8), { precision: 0, device: 0 });
        expect(Array.from(args.dims)).toEqual([plan.batch, plan.headsQ, plan.headsKv, plan.seqQ, plan.seqK, plan.headDim, plan.headDimV]);
        expect(args.heads.length).toBe(plan.headsQ * HEAD_WORDS);
        expect(args.out.length).toBe(plan.batch * plan.headsQ * plan.seqQ * plan.headDimV);
        const got = emulate(args);
        const ref = referenceAttention64(req);
        // The emulator forms each exponent argument in float32 as the kernels do (a few 1e-8 here); a packing
        // error moves results by far more.
        expect(maxAbsDiff(got.out, ref.out)).toBeLessThan(1e-7);
        expect(maxAbsDiff(got.lse, ref.lse)).toBeLessThan(1e-7);
        expect(got.out.some(Number.isNaN)).toBe(false);
      });

  it('shares one mask between heads with the same pattern and records content modes', () => {
    const req = CASES.find((c) => c.id === 'mixed per-head content')!.make();
    const plan = planAttention(req);
    const args = packRequest(req, plan, TILES[0]!, new BlockMaskCache(8), { precision: 0, device: 0 });
    expect(args.heads[HEAD_FIELD.mode]).toBe(HEAD_MODE.topk);
    expect(args.heads[HEAD_WORDS + HEAD_FIELD.mode]).toBe(HEAD_MODE.cluster);
    expect(args.centroids?.length).toBe(2 * 4);
    const dense = CASES[0]!.make();
    const p2 = planAttention(dense);
    const a2 = packRequest(dense, p2, TILES[0]!, new BlockMaskCache(8), { precision: 0, device: 0 });
    expect(a2.rowPtr.length).toBe(Math.ceil(p2.seqQ / 32) + 1); // two heads, one mask
  });
});

describe('top-k radix select (the algorithm of content.cu)', () => {
  it('orders doubles like numbers and round-trips them', () => {
    const xs = [-Infinity, -1e300, -2.5, -1e-310, 0, 1e-310, 1, 3.75, 1e300, Infinity];
    for (let n = 1; n < xs.length; n++) expect(orderedBits(xs[n]!) > orderedBits(xs[n - 1]!)).toBe(true);
    for (const x of xs) expect(fromOrdered(orderedBits(x))).toBe(x);
  });

  it('finds the threshold and tie cut of core for random rows with many ties', () => {
    const u = uniform(7);
    const rand = () => (u() + 1) / 2;
    for (let trial = 0; trial < 300; trial++) {
      const count = 1 + Math.floor(rand() * 60);
      const levels = 1 + Math.floor(rand() * 6);
      const cands = Array.from({ length: count }, (_, n) => ({ s: (Math.floor(rand() * levels) - 2) * 0.37, j: n * 3 + Math.floor(rand() * 3) }));
      const k = 1 + Math.floor(rand() * count * 1.2);
      const got = radixSelect(cands, k);
      const want = topkCut(
        cands.map((c) => c.s),
        cands.map((c) => c.j),
        count,
        k,
      );
      expect(got.threshold).toBe(want.threshold);
      if (Number.isFinite(want.tieCut)) expect(got.tieCut).toBe(want.tieCut);
      else expect(got.tieCut).toBe(2147483647);
    }
  });
});

describe('the native head-table header (native/head_table.h)', () => {
  it("is generated from core's definition, and written only when it changed", async () => {
    expect((await headTableHeader()).text).toBe(headTableSource('c'));
    const path = join(mkdtempSync(join(tmpdir(), 'cuda-native-head-table-')), 'head_table.h');
    expect(await writeHeadTable(path)).toMatchObject({ written: true, path });
    expect(readFileSync(path, 'utf8')).toBe(headTableSource('c'));
    expect(await writeHeadTable(path)).toMatchObject({ written: false, path });
    expect(readFileSync(path, 'utf8')).toMatch(/^constexpr int HEAD_WORDS = 8;$/m);
  });

  it('is the only place the native sources get the layout from', () => {
    const native = join(PACKAGE_DIR, 'native');
    expect(readFileSync(join(native, 'params.h'), 'utf8')).toContain('#include "head_table.h"');
    for (const file of readdirSync(native)) {
      if (file === 'head_table.h' || !/\.(h|cc|cu|cuh)$/.test(file)) continue;
      const text = readFileSync(join(native, file), 'utf8');
      expect(text, file).not.toMatch(/\bk(RowPtrOff|ColOff|BitsOff|Mode|Param|CentroidOff|HeadFields|Static|Topk|Cluster)\b|enum Head(Field|Mode)\b/);
      expect(text, file).not.toMatch(/(constexpr|#define)\s+(int\s+)?(HEAD|MODE)_[A-Z_]+\s*=?\s*\d/);
    }
  });
});
