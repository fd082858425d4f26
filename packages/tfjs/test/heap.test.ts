import { assertClose, FLOAT32_TOLERANCE, makeRequest } from '@sparse/conformance/testing';
import { BlockMaskCache, dense } from '@sparse/core';
import { planAttentionShapes } from '@sparse/core/backend';
import { referenceAttention } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { checkHeap, heapBytes, SCORE_COPIES, WASM_HEAP_BYTES } from '../src/check.js';
import { callWork } from '../src/compute.js';
import { tfjs } from '../src/index.js';
import { DEFAULT_MAX_SCORE_ELEMENTS, resolveTfjsOptions } from '../src/options.js';
import { PlanCache } from '../src/plan-cache.js';
import { TF_BACKENDS, tf, useBackend } from './helpers.js';

const plan = (S: number, H = 8) =>
  planAttentionShapes({ q: [1, H, S, 64], k: [1, H, S, 64], v: [1, H, S, 64], pattern: { kind: 'local', left: 128, right: 128 } });

/** A decode step: Sq new tokens after a cache of C, causal window of w keys, bottom-right aligned (the default). */
const decodeShapes = (C: number, Sq: number, w: number, D: number, Hq: number, Hkv: number) => ({
  q: [1, Hq, Sq, D],
  k: [1, Hkv, C + Sq, D],
  v: [1, Hkv, C + Sq, D],
  pattern: { kind: 'local', left: w - 1, right: 0 } as const,
});

const caches = () => ({ masks: new BlockMaskCache(4), plans: new PlanCache() });

describe('the tf.js wasm heap (refuse before allocating)', () => {
  it('refuses a request that cannot fit the 4 GiB wasm heap with RESOURCE_LIMIT naming the size', () => {
    expect(checkHeap('wasm', plan(2 ** 21), DEFAULT_MAX_SCORE_ELEMENTS)).toEqual({
      code: 'RESOURCE_LIMIT',
      field: 'request',
      message: expect.stringMatching(/^request: needs about \d+\.\d+ GiB of the tf\.js wasm heap \(4 GiB\)/),
    });
  });
  it('accepts what fits, and does not bound other tf.js backends', () => {
    expect(checkHeap('wasm', plan(32768), DEFAULT_MAX_SCORE_ELEMENTS)).toBeNull();
    expect(checkHeap('cpu', plan(2 ** 21), DEFAULT_MAX_SCORE_ELEMENTS)).toBeNull();
  });

  it('counts only the key blocks a decode step reads: a 131072-token cache with a 4096-key window fits', () => {
    const settings = resolveTfjsOptions({});
    const p = planAttentionShapes(decodeShapes(131072, 1, 4096, 128, 32, 8));
    const work = callWork(caches(), settings, p, 'wasm');
    // The window's 4096 keys in whole 64-key blocks (65 of them: the window straddles a block edge), not 131073.
    expect(work.arranged / (8 * 256)).toBe(65 * 64);
    expect(heapBytes(p, settings.maxElements, work)).toBeLessThan(2 * 2 ** 30);
    expect(checkHeap('wasm', p, settings.maxElements, work)).toBeNull();
    // Cleaning and arranging every key of that cache, as a dense call must, does not fit.
    const all = callWork(caches(), settings, { ...p, patterns: p.patterns.map(() => dense()) }, 'wasm');
    expect(all.arranged / (8 * 256)).toBe(Math.ceil(131073 / 64) * 64);
    expect(heapBytes(p, settings.maxElements, all)).toBeGreaterThan(WASM_HEAP_BYTES);
    expect(heapBytes(p, settings.maxElements)).toBeGreaterThan(WASM_HEAP_BYTES); // the default assumes every key
  });

  it('counts the scores of a query block that lists more keys than maxScoreElements', () => {
    const settings = resolveTfjsOptions({ tiles: { blockQ: 4096, blockK: 4096 } });
    const p = planAttentionShapes({ q: [1, 1, 1, 1], k: [1, 1, 65536, 1], v: [1, 1, 65536, 1], pattern: dense() });
    const work = callWork(caches(), settings, p, 'wasm');
    expect(work.chunkScores).toBe(4096 * 65536);
    expect(checkHeap('wasm', p, settings.maxElements, work)).toMatchObject({ code: 'RESOURCE_LIMIT', field: 'request' });
  });
});

describe('supports() and attention() refuse what would overflow the heap, with small arrays', () => {
  it('a dense call whose one query block scores 65536 keys on 4096 rows is refused up front', async () => {
    await useBackend('wasm');
    const request = makeRequest({ Hq: 1, Sq: 1, Sk: 65536, D: 1 }, dense());
    const refused = tfjs({ tf, backendName: 'wasm', tiles: { blockQ: 4096, blockK: 4096 } });
    const reason = refused.supports(request);
    expect(reason).toMatch(/^request: needs about .* GiB of the tf\.js wasm heap \(4 GiB\)/);
    const numBytes = tf.memory().numBytes;
    await expect(refused.attention(request)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', field: 'request', message: reason });
    expect(tf.memory().numBytes).toBe(numBytes);
    const accepted = tfjs({ tf, backendName: 'wasm' });
    expect(accepted.supports(request)).toBe(true);
    await expect(accepted.attention(request)).resolves.toBeDefined();
    await Promise.all([refused.dispose(), accepted.dispose()]);
  });
});

describe('a decode step after a long kv cache (Sk = 131073, causal window 4096, bottom-right)', () => {
  for (const backend of TF_BACKENDS)
    it(`on tf.js ${backend}: matches the reference and arranges only the window's keys`, async () => {
      await useBackend(backend);
      const request = makeRequest({ Hq: 2, Hkv: 1, Sq: 1, Sk: 131073, D: 16 }, { kind: 'local', left: 4095, right: 0 });
      const be = tfjs({ tf, backendName: backend });
      const inputBytes = 4 * (request.q.data.length + request.k.data.length + request.v.data.length);
      const work = callWork(
        caches(),
        resolveTfjsOptions({}),
        planAttentionShapes({ ...request, q: request.q.shape, k: request.k.shape, v: request.v.shape }),
        backend,
      );
      expect(work.arranged).toBe(65 * 64 * 32); // the window's blocks of k and v, not the cache's
      let out: Float32Array | undefined;
      const profile = await tf.profile(async () => {
        out = (await be.attention(request)).out.data as Float32Array;
      });
      // The uploaded inputs, one chunk's scores and the window's blocks: cleaning and padding the whole cache, as
      // before, added several copies of k and v (4 · 16 · 131073 bytes each) to that.
      expect(profile.peakBytes).toBeLessThan(inputBytes + 4 * SCORE_COPIES * work.chunkScores + 2 ** 20);
      assertClose(out!, referenceAttention(request).out.data, FLOAT32_TOLERANCE, 'out');
      await be.dispose();
    });
});
