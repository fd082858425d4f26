import { makeRequest } from '@sparse/conformance/testing';
import { BlockMaskCache, HEAD_FIELD, HEAD_MODE, HEAD_WORDS, packHeadTable, planAttention } from '@sparse/core/backend';
import { describe, expect, it } from 'vitest';
import * as A from '../src/abi.js';
import { attentionCost, balancedChunks } from '../src/chunks.js';
import { layoutArena, WASM32_BYTES } from '../src/layout.js';
import { headsIn, LABEL_ROWS, labelJobCount, listedBlocks, topkColumns, writeHeadTable, writeLabelJobs } from '../src/pack.js';

describe('balancedChunks', () => {
  it('covers every task once, in order, in chunks of about equal cost', () => {
    const cost = (t: number) => 1 + (t % 7);
    const ranges: [number, number][] = [
      [0, 50],
      [80, 200],
    ];
    const c = balancedChunks(ranges, cost, 10);
    const seen: number[] = [];
    for (let n = 0; n < c.length; n += 2) for (let t = c[n]!; t < c[n + 1]!; t++) seen.push(t);
    expect(seen).toEqual([...Array.from({ length: 50 }, (_, t) => t), ...Array.from({ length: 120 }, (_, t) => 80 + t)]);
    const total = seen.reduce((a, t) => a + cost(t), 0);
    for (let n = 0; n < c.length; n += 2) {
      let sum = 0;
      for (let t = c[n]!; t < c[n + 1]!; t++) sum += cost(t);
      expect(sum).toBeLessThanOrEqual(total / 10 + 7);
    }
  });

  it('weighs attention tasks by the key blocks they visit', () => {
    const cost = attentionCost((h, qb) => h * 10 + qb, 2, 4, 100);
    expect(cost(0)).toBe(100); // h 0, qb 0
    expect(cost(3)).toBe(400); // h 0, b 0, qb 3
    expect(cost(8)).toBe(1100); // h 1, b 0, qb 0
  });
});

const tiles = { blockQ: 32, blockK: 32 };

describe('layoutArena', () => {
  it('aligns every region and fits them in order', () => {
    const plan = planAttention(makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'causal' }));
    const table = packHeadTable(plan, new BlockMaskCache(), tiles);
    const a = layoutArena({ plan, table, tiles, threads: 2, chunkPairs: { prep: 1, topk: 0, attend: 4 }, labelJobs: 0 });
    for (const at of [a.heads, a.rowPtr, a.colIdx, a.partialIdx, a.bits, a.q, a.k, a.v, a.o, a.kt, a.ml, a.scratch]) expect(at % 64).toBe(0);
    expect(a.colIdx).toBeGreaterThanOrEqual(a.rowPtr + table.rowPtr.length * 4);
    expect(a.k).toBeGreaterThanOrEqual(a.q + 2 * 40 * 8 * 4);
    expect(a.total).toBeGreaterThanOrEqual(a.scratch + 2 * a.scratchStride);
    expect(a.total).toBeLessThan(WASM32_BYTES);
  });
});

describe('the head table in wasm memory', () => {
  const centroids = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
  ];
  const req = makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 300, Sk: 300, D: 4 }, [
    { kind: 'causal' },
    { kind: 'topk', k: 3, within: { kind: 'local', left: 40, right: 0 } },
    { kind: 'cluster', centroids },
    { kind: 'causal' },
  ]);
  const plan = planAttention(req);
  const table = packHeadTable(plan, new BlockMaskCache(), tiles);

  it("is core's packed table as it is: rows with element offsets, arrays concatenated", () => {
    const a = layoutArena({ plan, table, tiles, threads: 1, chunkPairs: { prep: 1, topk: 1, attend: 1 }, labelJobs: labelJobCount(plan, table) });
    const buf = new ArrayBuffer(a.total);
    writeHeadTable(buf, table, a);
    expect(new Int32Array(buf, a.heads, plan.headsQ * HEAD_WORDS)).toEqual(table.heads);
    expect(new Int32Array(buf, a.rowPtr, table.rowPtr.length)).toEqual(table.rowPtr);
    expect(new Int32Array(buf, a.partialIdx, table.partialIdx.length)).toEqual(table.partialIdx);
    expect(new Float64Array(buf, a.centroids, table.centroids.length)).toEqual(table.centroids);
    // Heads 0 and 3 share one mask.
    expect(table.heads[3 * HEAD_WORDS + HEAD_FIELD.rowPtr]).toBe(table.heads[HEAD_FIELD.rowPtr]);
    expect(headsIn(table, HEAD_MODE.topk)).toEqual([1]);
    expect(listedBlocks(table, 0, 9)).toBe(10); // causal, query block 9 of 32 rows: key blocks 0 … 9
    expect(topkColumns(table, 32)).toBe(3 * 32); // local 40 left: at most three key blocks per query block
  });

  it('labels the query rows of each cluster head and the key rows of each label group, per batch entry', () => {
    const a = layoutArena({ plan, table, tiles, threads: 1, chunkPairs: { prep: 1, topk: 1, attend: 1 }, labelJobs: labelJobCount(plan, table) });
    const perSeq = Math.ceil(300 / LABEL_ROWS);
    expect(labelJobCount(plan, table)).toBe(2 * (perSeq + perSeq));
    const buf = new ArrayBuffer(a.total);
    const rows = (base: number) => ({ at: (b: number, h: number) => base + (b * 1000 + h * 100) * 4, stride: 16 });
    writeLabelJobs(buf, plan, table, a, a.labelJobs, rows(a.q), rows(a.k), a.labelQ, 320);
    const I = new Int32Array(buf, a.labelJobs, labelJobCount(plan, table) * A.LJ_SLOTS);
    const job = (n: number) => I.subarray(n * A.LJ_SLOTS, (n + 1) * A.LJ_SLOTS);
    // Batch 0: head 2's query rows (two jobs of up to 256 rows), then kv head 1's key rows.
    expect(Array.from(job(0))).toEqual([a.q + 200 * 4, 16, 256, a.centroids, 2, a.labelQ + 2 * 300 * 4]);
    expect(job(1)[A.LJ_ROWS]).toBe(300 - 256);
    expect(Array.from(job(2))).toEqual([a.k + 100 * 4, 16, 256, a.centroids, 2, a.labelK]);
    // Batch 1 of label group 0: its own block of padded keys.
    expect(job(6)[A.LJ_DST]).toBe(a.labelK + 320 * 4);
  });
});
