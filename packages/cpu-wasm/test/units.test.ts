import { planAttention } from '@sparse/core/backend';
import { describe, expect, it } from 'vitest';
import { attentionCost, balancedChunks } from '../src/chunks.js';
import { layoutArena, WASM32_BYTES } from '../src/layout.js';
import { request } from './helpers.js';

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

describe('layoutArena', () => {
  it('aligns every region and fits them in order', () => {
    const plan = planAttention(request({ Hq: 2, Sq: 40, D: 8 }, { kind: 'causal' }));
    const specs = { heads: [], masks: [], units: [], labelGroups: [], anyTopk: false, anyCluster: false };
    const a = layoutArena({ plan, specs, tiles: { blockQ: 32, blockK: 32 }, threads: 2, chunkPairs: { prep: 1, topk: 0, attend: 4 }, labelJobs: 0 });
    for (const at of [a.q, a.k, a.v, a.o, a.kt, a.ml, a.scratch]) expect(at % 64).toBe(0);
    expect(a.k).toBeGreaterThanOrEqual(a.q + 2 * 40 * 8 * 4);
    expect(a.total).toBeGreaterThanOrEqual(a.scratch + 2 * a.scratchStride);
    expect(a.total).toBeLessThan(WASM32_BYTES);
  });
});
