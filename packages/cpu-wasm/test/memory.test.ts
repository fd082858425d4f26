import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';
import { expectMatchesReference, request } from './helpers.js';

describe('wasm memory', () => {
  const backend = cpuWasm({ threads: 2 });
  afterAll(() => backend.dispose());
  const small = request({ Hq: 2, Sq: 40, D: 8 }, { kind: 'causal' });
  const large = request({ B: 2, Hq: 4, Hkv: 2, Sq: 300, D: 64 }, { kind: 'local', left: 40, right: 40 });

  it('is reused across calls: no growth in steady state', async () => {
    await backend.attention(large);
    const size = backend.info().memoryBytes;
    for (let n = 0; n < 3; n++) {
      expectMatchesReference(large, await backend.attention(large));
      expect(backend.info().lastCall!.grew).toBe(false);
      expect(backend.info().memoryBytes).toBe(size);
    }
    expectMatchesReference(small, await backend.attention(small));
    expect(backend.info().memoryBytes).toBe(size);
  });

  it('grows for a larger call and every view is re-read after the growth', async () => {
    const fresh = cpuWasm({ threads: 2 });
    try {
      expectMatchesReference(small, await fresh.attention(small));
      const before = fresh.info().memoryBytes;
      expectMatchesReference(large, await fresh.attention(large));
      expect(fresh.info().lastCall!.grew).toBe(true);
      expect(fresh.info().memoryBytes).toBeGreaterThan(before);
      expectMatchesReference(small, await fresh.attention(small));
    } finally {
      await fresh.dispose();
    }
  });

  it('serialises concurrent calls over the one memory', async () => {
    const reqs = [small, large, request({ Sq: 33, Sk: 50, D: 5, Dv: 3 }, { kind: 'dense' }), small];
    const results = await Promise.all(reqs.map((r) => backend.attention(r)));
    results.forEach((res, n) => {
      expectMatchesReference(reqs[n]!, res);
    });
  });

  it('reports the last call', async () => {
    await backend.attention(small);
    const info = backend.info();
    expect(info.mode).toBe('workers');
    expect(info.lastCall).toMatchObject({ threads: 2, nnz: 2 * ((40 * 41) / 2) });
    expect(info.lastCall!.arenaBytes).toBeLessThanOrEqual(info.memoryBytes);
  });
});
