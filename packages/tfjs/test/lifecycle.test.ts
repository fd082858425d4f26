import { causal, FLOAT32_TOLERANCE, isSparseAttentionError } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { tfjs } from '../src/index.js';
import { caseRequest, TF_BACKENDS, tf, useBackend } from './helpers.js';

const request = caseRequest({ name: 'x', Sq: 20, pattern: causal() });

describe('dispose (docs/design.md: final and idempotent)', () => {
  it('afterwards probe, supports and attention all give the reason; calls in flight finish', async () => {
    const be = tfjs({ tf, backendName: 'wasm' });
    expect((await be.probe()).available).toBe(true);
    const inFlight = be.attention(request);
    await be.dispose();
    await be.dispose();
    await expect(inFlight).resolves.toMatchObject({ out: { shape: [1, 2, 20, 8] } });
    const probe = await be.probe();
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/disposed/);
    expect(be.supports(request)).toBe(probe.reason);
    // Even a request that is invalid as well: the backend is gone first.
    for (const r of [request, { ...request, scale: Number.NaN }]) {
      const e = await be.attention(r).catch((x: unknown) => x);
      expect(isSparseAttentionError(e) && [e.code, e.message]).toEqual(['BACKEND_UNAVAILABLE', probe.reason]);
    }
  });
});

describe('AbortSignal', () => {
  it('ABORTED names the signal, before and after the tf.js backend is ready', async () => {
    const be = tfjs({ tf, backendName: 'cpu' });
    const controller = new AbortController();
    controller.abort();
    await expect(be.attention(request, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED', field: 'signal' });
    const late = new AbortController();
    const pending = be.attention(request, { signal: late.signal });
    late.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED', field: 'signal' });
    await be.dispose();
  });
});

describe('tolerance()', () => {
  it('works without a prior probe', () => {
    expect(tfjs({ tf, backendName: 'wasm' }).tolerance()).toEqual(FLOAT32_TOLERANCE);
    expect(tfjs({ tf, backendName: 'cpu' }).tolerance()).toEqual(FLOAT32_TOLERANCE);
    expect(tfjs({ backendName: 'webgpu' }).tolerance().atol).toBeGreaterThan(FLOAT32_TOLERANCE.atol);
  });
});

describe('supports() and attention() share one resource estimate (the tf.js wasm heap)', () => {
  it('agree in both directions, with the same sentence', async () => {
    await useBackend('wasm');
    // 16 · maxScoreElements floats of scores alone: 2^27 of them overflow the 4 GiB heap, 2^25 fit.
    const refused = tfjs({ tf, backendName: 'wasm', maxScoreElements: 2 ** 27 });
    const reason = refused.supports(request);
    expect(reason).toMatch(/^request: needs about .* GiB of the tf\.js wasm heap/);
    await expect(refused.attention(request)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', message: reason });
    const accepted = tfjs({ tf, backendName: 'wasm', maxScoreElements: 2 ** 25 });
    expect(accepted.supports(request)).toBe(true);
    await expect(accepted.attention(request)).resolves.toBeDefined();
  });

  it('a bad compute option is refused by the factory, never by attention() after supports() said yes', () => {
    expect(() => tfjs({ tf, tiles: { blockQ: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'tiles.blockQ' }));
    expect(() => tfjs({ tf, strategy: 'fast' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'strategy' }));
  });
});

for (const backend of TF_BACKENDS) {
  describe(`tf.js ${backend}: no tensor left behind on the paths above`, () => {
    it('non-finite inputs, refusals, aborts and a disposed backend', async () => {
      await useBackend(backend);
      const bad = caseRequest({ name: 'x', Sq: 20, pattern: { kind: 'topk', k: 2, within: causal() } });
      bad.k.data[8] = Number.NaN;
      bad.v.data[17] = Number.POSITIVE_INFINITY;
      const be = tfjs({ tf, backendName: backend, tiles: { blockQ: 8, blockK: 8 } });
      await be.attention(bad);
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      for (let call = 0; call < 20; call++) {
        await be.attention(bad);
        await be.attention({ ...bad, pattern: { kind: 'cluster', centroids: [Array(8).fill(1), Array(8).fill(-1)] } });
        await be.attention({ ...bad, pattern: { kind: 'local', left: 1, right: 1 } });
        const pending = be.attention(bad, { signal: controller.signal });
        if (call === 10) controller.abort();
        await pending.catch(() => undefined);
      }
      await be.dispose();
      await be.attention(bad).catch(() => undefined);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('failures inside tf.js', () => {
  it('are typed: a tf.js backend that cannot hold a tensor gives INTERNAL, naming tf.js, never a plain Error', async () => {
    // tf.js's own base class: every kernel and tensor write throws tf.js's "not yet implemented" Error.
    class EmptyBackend extends tf.KernelBackend {
      override dispose(): void {}
    }
    tf.registerBackend('sparse-test-empty', () => new EmptyBackend());
    const previous = tf.getBackend() ?? 'cpu';
    const be = tfjs({ tf, backendName: 'sparse-test-empty' });
    try {
      const e = await be.attention(request).catch((x: unknown) => x);
      expect(isSparseAttentionError(e), String(e)).toBe(true);
      expect(e).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/^tfjs: tf\.js failed during the call: /) });
    } finally {
      await be.dispose();
      await tf.setBackend(previous);
      tf.removeBackend('sparse-test-empty');
    }
  });
});
