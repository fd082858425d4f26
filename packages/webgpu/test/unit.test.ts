import { makeRequest } from '@sparse/conformance/testing';
import { BlockMaskCache, type Layout, type Pattern } from '@sparse/core';
import { HEAD_FIELD, HEAD_MODE, HEAD_WORDS, headTableSource, planAttention } from '@sparse/core/backend';
import { describe, expect, it } from 'vitest';
import { geometry, planChunks } from '../src/chunks.js';
import { chooseConfig, clampLimits, DEFAULT_LIMITS, type DeviceLimits } from '../src/limits.js';
import { packTable } from '../src/pack.js';
import { BufferPool } from '../src/pool.js';
import { attentionShader } from '../src/wgsl/attention.js';
import { workgroupBytes } from '../src/wgsl/config.js';
import { labelsShader } from '../src/wgsl/labels.js';
import { PARAM_FIELDS, PARAMS_SLOT_BYTES, packParams } from '../src/wgsl/params.js';

// Pure planning logic: no adapter needed.

describe('kernel configuration', () => {
  const big = { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 32768 };
  it('uses the largest key block whose tiles fit workgroup memory', () => {
    expect(chooseConfig(64, 64, big, {}, false)).toMatchObject({ BK: 32, TPR: 4, BQ: 16 });
    expect(chooseConfig(64, 64, DEFAULT_LIMITS, {}, false)).toMatchObject({ BK: 16 });
    const c256 = chooseConfig(256, 256, DEFAULT_LIMITS, {}, false);
    expect(c256).toMatchObject({ TPR: 8 });
    if (typeof c256 === 'string') throw new Error(c256);
    expect(workgroupBytes(c256).main).toBeLessThanOrEqual(16384);
  });
  it('narrows the top-k radix when the histogram would not fit', () => {
    expect(chooseConfig(64, 64, big, {}, true)).toMatchObject({ BK: 32, RB: 4 });
    expect(chooseConfig(8, 8, big, {}, true)).toMatchObject({ BK: 32, RB: 8 });
  });
  it('explains what does not fit', () => {
    expect(chooseConfig(256, 256, { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 1024 }, {}, false)).toMatch(/maxComputeWorkgroupStorageSize/);
    expect(chooseConfig(8, 8, { ...DEFAULT_LIMITS, maxComputeInvocationsPerWorkgroup: 32 }, { blockQ: 64 }, false)).toMatch(/invocations/);
  });
  it('never raises a device limit', () => {
    expect(clampLimits(DEFAULT_LIMITS, { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 1000 })).toMatchObject({
      maxBufferSize: DEFAULT_LIMITS.maxBufferSize,
      maxStorageBufferBindingSize: 1000,
    });
  });
});

describe('chunk planning', () => {
  const plan = (layout: Layout, pattern: Pattern, B = 2, Hq = 4, Hkv = 2, Sq = 70, Sk = 50, D = 8) =>
    planAttention(makeRequest({ B, Hq, Hkv, Sq, Sk, D, layout }, pattern));

  function check(layout: Layout, pattern: Pattern, limits: Partial<DeviceLimits>) {
    const p = plan(layout, pattern);
    const l = clampLimits({ ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 32768 }, limits);
    const table = packTable(p, new BlockMaskCache(4), { blockQ: 16, blockK: 32 });
    const geo = {
      q: geometry(layout, p.batch, p.headsQ, p.seqQ, p.headDim),
      k: geometry(layout, p.batch, p.headsKv, p.seqK, p.headDim),
      v: geometry(layout, p.batch, p.headsKv, p.seqK, p.headDimV),
      o: geometry(layout, p.batch, p.headsQ, p.seqQ, p.headDimV),
    };
    const chunks = planChunks({ plan: p, geo, headMasks: table.headMasks, blockQ: 16, limits: l });
    // Every (b, h, query block) exactly once; ranges within bounds and within the binding limit.
    const seen = new Map<string, number>();
    const qCovered = new Uint8Array(geo.q.total);
    for (const c of chunks) {
      for (let b = c.b0; b < c.b0 + c.nb; b++)
        for (let h = c.h0; h < c.h0 + c.nh; h++)
          for (let qb = c.qb0; qb < c.qb0 + c.nqb; qb++) seen.set(`${b},${h},${qb}`, (seen.get(`${b},${h},${qb}`) ?? 0) + 1);
      for (const t of ['q', 'k', 'v', 'o'] as const) {
        const [lo, hi] = c.ranges[t];
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(geo[t].total);
        expect(hi * 4 - Math.floor((lo * 4) / l.minStorageBufferOffsetAlignment) * l.minStorageBufferOffsetAlignment).toBeLessThanOrEqual(
          l.maxStorageBufferBindingSize,
        );
      }
      for (let n = c.ranges.q[0]; n < c.ranges.q[1]; n++) qCovered[n]!++;
      expect(c.nqb).toBeLessThanOrEqual(l.maxComputeWorkgroupsPerDimension);
    }
    expect(seen.size).toBe(p.batch * p.headsQ * Math.ceil(p.seqQ / 16));
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // q ranges never overlap (host uploads and readbacks of a chunk touch only its own rows).
    expect(qCovered.every((x) => x <= 1)).toBe(true);
    return chunks;
  }

  for (const layout of ['bhsd', 'bshd'] as const) {
    it(`${layout}: one chunk when everything fits`, () => {
      expect(check(layout, { kind: 'causal' }, {})).toHaveLength(1);
    });
    it(`${layout}: batches, heads, then query blocks as the binding limit shrinks`, () => {
      for (const max of [16000, 8000, 4000])
        expect(check(layout, { kind: 'local', left: 4, right: 4 }, { maxStorageBufferBindingSize: max }).length).toBeGreaterThan(1);
    });
    it(`${layout}: grid limit`, () => {
      if (layout === 'bhsd') expect(check(layout, { kind: 'dense' }, { maxComputeWorkgroupsPerDimension: 2 }).length).toBeGreaterThan(1);
      // bshd splits rows with every head in the grid: more heads than the grid allows is refused, not mis-run.
      else expect(() => check(layout, { kind: 'dense' }, { maxComputeWorkgroupsPerDimension: 2 })).toThrow(/maxComputeWorkgroupsPerDimension/);
    });
  }
});

describe('kernel table', () => {
  it('lays out one head entry per query head and shares masks of equal patterns', () => {
    const patterns: Pattern[] = [
      { kind: 'causal' },
      { kind: 'topk', k: 3 },
      { kind: 'causal' },
      {
        kind: 'cluster',
        centroids: [
          [1, 0],
          [0, 1],
        ],
      },
    ];
    const p = planAttention(makeRequest({ Hq: 4, Sq: 40, D: 2 }, patterns));
    const table = packTable(p, new BlockMaskCache(8), { blockQ: 16, blockK: 8 });
    expect(table.masks).toHaveLength(3);
    expect(table.headMasks[0]).toBe(table.headMasks[2]);
    const { words: w, sections: s } = table;
    const field = (h: number, f: keyof typeof HEAD_FIELD) => w[h * HEAD_WORDS + HEAD_FIELD[f]]!;
    expect([field(0, 'mode'), field(1, 'mode'), field(3, 'mode')]).toEqual([HEAD_MODE.static, HEAD_MODE.topk, HEAD_MODE.cluster]);
    expect(field(1, 'param')).toBe(3);
    expect(field(3, 'param')).toBe(2);
    const m = table.headMasks[0]!;
    const rowPtr = s.rowPtrAt + field(0, 'rowPtr');
    const colIdx = s.colIdxAt + field(0, 'colIdx');
    const partialIdx = s.partialIdxAt + field(0, 'colIdx');
    expect(Array.from(w.subarray(rowPtr, rowPtr + m.rowPtr.length))).toEqual(Array.from(m.rowPtr));
    expect(Array.from(w.subarray(colIdx, colIdx + m.colIdx.length))).toEqual(Array.from(m.colIdx));
    expect(Array.from(new Int32Array(w.buffer, partialIdx * 4, m.partialIdx.length))).toEqual(Array.from(m.partialIdx));
    const unit = new Float32Array(w.buffer, (s.centroidsAt + field(3, 'centroids')) * 4, 4);
    expect(Array.from(unit)).toEqual([1, 0, 0, 1]);
  });
});

describe('params and shaders', () => {
  it('packs params in the order of the WGSL struct, in 256-byte slots', () => {
    const bytes = new ArrayBuffer(2 * PARAMS_SLOT_BYTES);
    const u32 = new Uint32Array(bytes);
    const f32 = new Float32Array(bytes);
    const params = Object.fromEntries(PARAM_FIELDS.map((f, n) => [f, n + 1])) as Record<(typeof PARAM_FIELDS)[number], number>;
    packParams({ ...params, scale: 0.25 }, u32, f32, 1);
    const base = PARAMS_SLOT_BYTES / 4;
    expect(u32[base]).toBe(1);
    expect(f32[base + PARAM_FIELDS.indexOf('scale')]).toBe(0.25);
    expect(PARAM_FIELDS.length * 4).toBeLessThanOrEqual(PARAMS_SLOT_BYTES);
    expect(attentionShader({ D: 8, Dv: 8, BQ: 16, BK: 32, TPR: 4, RB: 8 }, 'main')).toContain('struct Params');
  });
  it("reads the head table and the top-k row state through named constants, from core's definition", () => {
    const cfg = { D: 8, Dv: 8, BQ: 16, BK: 32, TPR: 4, RB: 8 };
    for (const src of [...(['main', 'hist', 'tie'] as const).map((k) => attentionShader(cfg, k)), labelsShader(8)]) {
      expect(src).toContain(headTableSource('wgsl'));
      expect(src).not.toMatch(/(rowState|ht|co|rp) \+ \d/);
      expect(src).not.toMatch(/HEAD_WORDS \+ \d/);
    }
  });
  it('uses no WGSL reserved words as identifiers', () => {
    const reserved = [
      'meta',
      'match',
      'active',
      'pass',
      'filter',
      'final',
      'module',
      'self',
      'type',
      'mod',
      'new',
      'package',
      'static',
      'unless',
      'volatile',
      'where',
    ];
    const sources = [...(['main', 'hist', 'tie'] as const).map((k) => attentionShader({ D: 5, Dv: 7, BQ: 16, BK: 32, TPR: 4, RB: 8 }, k)), labelsShader(5)];
    for (const src of sources) for (const word of reserved) expect(src).not.toMatch(new RegExp(`\\b(let|var|fn|const)\\s+${word}\\b|\\b${word}\\s*:`));
  });
});

describe('buffer pool size classes', () => {
  it('rounds up by at most 1/8 and never past the device maximum', () => {
    for (const bytes of [1, 255, 257, 1000, 4097, 1 << 20, (1 << 20) + 1, 123456789]) {
      const c = BufferPool.sizeClass(bytes, 2 ** 31);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 4).toBe(0);
      if (bytes > 256) expect(c / bytes).toBeLessThanOrEqual(1.25);
    }
    expect(BufferPool.sizeClass(1000, 1000)).toBe(1000);
  });
});
