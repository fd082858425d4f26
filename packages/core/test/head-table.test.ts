import { describe, expect, it } from 'vitest';
import { BlockMaskCache, HEAD_FIELD, HEAD_MODE, HEAD_WORDS, headTableSource, packHeadTable, planAttention } from '../src/entry/backend.js';
import type { Pattern } from '../src/index.js';
import { qkv } from './helpers.js';

describe('the head table', () => {
  it('shares one mask between equal patterns and points every head at its arrays', () => {
    const causal: Pattern = { kind: 'causal' };
    const cluster: Pattern = {
      kind: 'cluster',
      centroids: [
        [1, 0, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 0, 0],
      ],
      within: { kind: 'local', left: 4 },
    };
    const patterns: Pattern[] = [
      causal,
      { kind: 'causal' },
      { kind: 'topk', k: 3, within: { kind: 'local', left: 4 } },
      cluster,
      cluster,
      { kind: 'local', left: 2 },
    ];
    const plan = planAttention({ ...qkv({ Hq: 6, Hkv: 3, Sq: 40 }), pattern: patterns });
    const cache = new BlockMaskCache(8);
    const t = packHeadTable(plan, cache, { blockQ: 16, blockK: 16 });
    // causal ×2 share; the top-k and the cluster heads run on their `within` masks (equal: local left 4).
    expect(t.masks.length).toBe(4);
    expect(Array.from(t.headMask)).toEqual([0, 0, 1, 2, 2, 3]);
    const field = (h: number, f: keyof typeof HEAD_FIELD) => t.heads[h * HEAD_WORDS + HEAD_FIELD[f]]!;
    expect(field(2, 'mode')).toBe(HEAD_MODE.topk);
    expect(field(2, 'param')).toBe(3);
    expect([field(3, 'mode'), field(3, 'param'), field(3, 'centroids')]).toEqual([HEAD_MODE.cluster, 2, 0]);
    // Heads 3 and 4 read kv heads 1 and 2: two label groups over the same centroids.
    expect(t.labelGroups).toEqual([
      { centroids: 0, count: 2, kvHead: 1 },
      { centroids: 0, count: 2, kvHead: 2 },
    ]);
    expect([field(3, 'labels'), field(4, 'labels'), field(0, 'labels')]).toEqual([0, 1, -1]);
    t.masks.forEach((mask, m) => {
      const h = t.headMask.indexOf(m);
      const rp = field(h, 'rowPtr');
      const co = field(h, 'colIdx');
      expect(Array.from(t.rowPtr.subarray(rp, rp + mask.rowPtr.length))).toEqual(Array.from(mask.rowPtr));
      expect(Array.from(t.colIdx.subarray(co, co + mask.colIdx.length))).toEqual(Array.from(mask.colIdx));
      expect(Array.from(t.partialIdx.subarray(co, co + mask.partialIdx.length))).toEqual(Array.from(mask.partialIdx));
      expect(Array.from(t.bits.subarray(field(h, 'bits'), field(h, 'bits') + mask.bits.length))).toEqual(Array.from(mask.bits));
    });
    expect(t.centroids.length).toBe(16);
    expect(t.hasTopk && t.hasCluster).toBe(true);
  });

  it('gives the kernel languages their constants from the one definition', () => {
    expect(headTableSource('wgsl')).toContain('const HEAD_ROW_PTR: u32 = 0u;');
    expect(headTableSource('c')).toContain('constexpr int MODE_CLUSTER = 2;');
    expect(headTableSource('assemblyscript')).toContain(`export const HEAD_WORDS: i32 = ${HEAD_WORDS};`);
  });
});
