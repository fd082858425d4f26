import { assertMatchesReference, makeRequest } from '@sparse/conformance/testing';
import type { AttentionResult } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

describe('wasm memory', () => {
  const backend = cpuWasm({ threads: 2 });
  afterAll(() => backend.dispose());
  const small = makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'causal' });
  const large = makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 300, D: 64 }, { kind: 'local', left: 40, right: 40 });

  it('is reused across calls: no growth in steady state', async () => {
    await backend.attention(large);
    const size = backend.lastRun()!.memoryBytes;
    for (let n = 0; n < 3; n++) {
      assertMatchesReference(large, await backend.attention(large));
      expect(backend.lastRun()!.grew).toBe(false);
      expect(backend.lastRun()!.memoryBytes).toBe(size);
    }
    assertMatchesReference(small, await backend.attention(small));
    expect(backend.lastRun()!.memoryBytes).toBe(size);
  });

  it('grows for a larger call and every view is re-read after the growth', async () => {
    const fresh = cpuWasm({ threads: 2 });
    try {
      assertMatchesReference(small, await fresh.attention(small));
      const before = fresh.lastRun()!.memoryBytes!;
      assertMatchesReference(large, await fresh.attention(large));
      expect(fresh.lastRun()!.grew).toBe(true);
      expect(fresh.lastRun()!.memoryBytes).toBeGreaterThan(before);
      assertMatchesReference(small, await fresh.attention(small));
    } finally {
      await fresh.dispose();
    }
  });

  it('serialises concurrent calls over the one memory', async () => {
    const reqs = [small, large, makeRequest({ Sq: 33, Sk: 50, D: 5, Dv: 3 }, { kind: 'dense' }), small];
    const results = await Promise.all(reqs.map((r) => backend.attention(r)));
    results.forEach((res, n) => {
      assertMatchesReference(reqs[n]!, res);
    });
  });

  it('32 concurrent calls give bit for bit the results of the same calls one at a time', async () => {
    const patterns = [
      { kind: 'causal' },
      { kind: 'local', left: 5, right: 2 },
      { kind: 'dilated', dilation: 2, left: 3, right: 3 },
      { kind: 'topk', k: 4, within: { kind: 'local', left: 9, right: 9 } },
    ] as const;
    const reqs = Array.from({ length: 32 }, (_, n) => makeRequest({ Hq: 2, Sq: 30 + n, D: 8, seed: n }, patterns[n % 4]!));
    const sequential: AttentionResult[] = [];
    for (const r of reqs) sequential.push(await backend.attention(r));
    const concurrent = await Promise.all(reqs.map((r) => backend.attention(r)));
    concurrent.forEach((res, n) => {
      expect(res.out.data, `call ${n}`).toEqual(sequential[n]!.out.data);
      expect(res.lse!.data, `call ${n}`).toEqual(sequential[n]!.lse!.data);
    });
  });

  it('1000 calls leave the memory as it was after the first', async () => {
    await backend.attention(small);
    const size = backend.lastRun()!.memoryBytes;
    for (let n = 0; n < 1000; n++) await backend.attention(small);
    expect(backend.lastRun()!.memoryBytes).toBe(size);
    expect(backend.lastRun()!.grew).toBe(false);
  });

  it('reports the last call', async () => {
    await backend.attention(small);
    const info = backend.lastRun()!;
    expect(info).toMatchObject({ backend: 'cpu-wasm', mode: 'workers', threads: 2, pieces: 1, nnz: 2 * ((40 * 41) / 2) });
    expect(info.arenaBytes).toBeLessThanOrEqual(info.memoryBytes!);
  });
});

describe('splitting large calls by kv-head group', () => {
  it('gives the same results as one call, in both layouts, with GQA, per-head patterns and lse', async () => {
    const split = cpuWasm({ threads: 2, splitBytes: 1 }); // every (batch, kv head) becomes its own sub-call
    try {
      for (const layout of ['bhsd', 'bshd'] as const) {
        const B = 2,
          Hq = 4,
          Hkv = 2,
          S = 37,
          D = 5,
          Dv = 3;
        const shape = (h: number, d: number) => (layout === 'bhsd' ? [B, h, S, d] : [B, S, h, d]);
        const fill = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.731));
        const request = {
          q: { data: fill(B * Hq * S * D, 1), shape: shape(Hq, D) },
          k: { data: fill(B * Hkv * S * D, 2), shape: shape(Hkv, D) },
          v: { data: fill(B * Hkv * S * Dv, 3), shape: shape(Hkv, Dv) },
          pattern: [{ kind: 'local', left: 2, right: 2 }, { kind: 'causal' }, { kind: 'topk', k: 3 }, { kind: 'dense' }] as never,
          layout,
          returnLse: true,
        };
        const got = await split.attention(request);
        const want = referenceAttention(request);
        expect(got.out.shape).toEqual(want.out.shape);
        got.out.data.forEach((x, n) => {
          expect(Math.abs(x - want.out.data[n]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(want.out.data[n]!));
        });
        got.lse!.data.forEach((x, n) => {
          expect(Math.abs(x - want.lse!.data[n]!)).toBeLessThan(1e-5);
        });
        // each sub-call's arena holds one (batch, kv head) group: smaller than one call over the whole request
        const whole = cpuWasm({ threads: 2 });
        try {
          await whole.attention(request);
          expect(split.lastRun()!.pieces).toBe(B * Hkv);
          expect(split.lastRun()!.arenaBytes).toBeLessThan(whole.lastRun()!.arenaBytes!);
        } finally {
          await whole.dispose();
        }
      }
    } finally {
      await split.dispose();
    }
  });
});
