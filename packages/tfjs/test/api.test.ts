import { type AttentionRequest, causal, isSparseAttentionError, type SparseAttentionError } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { referenceAttention } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { FLOAT32_TOLERANCE, sparseAttention, tfjs, toleranceFor } from '../src/index.js';
import { expectClose, F32, makeRequest, tf, useBackend } from './helpers.js';

function caught(fn: () => unknown): SparseAttentionError {
  try {
    fn();
  } catch (e) {
    if (isSparseAttentionError(e)) return e;
    throw e;
  }
  throw new Error('expected a SparseAttentionError');
}

function residentError(request: AttentionRequest): SparseAttentionError {
  return caught(() =>
    tf.tidy(() => {
      const up = (x: { data: Float32Array; shape: readonly number[] }) => tf.tensor(x.data, [...x.shape]);
      sparseAttention(tf, { ...request, q: up(request.q), k: up(request.k), v: up(request.v) });
    }),
  );
}

describe('validation of the resident entry point (core planAttention, same codes and messages)', () => {
  const good = makeRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 8, D: 4, pattern: causal() });
  const bad: [string, AttentionRequest][] = [
    ['k head dim', { ...good, k: { data: new Float32Array(2 * 8 * 3), shape: [1, 2, 8, 3] } }],
    ['GQA heads', { ...good, k: { data: new Float32Array(3 * 8 * 4), shape: [1, 3, 8, 4] }, v: { data: new Float32Array(3 * 8 * 4), shape: [1, 3, 8, 4] } }],
    ['rank', { ...good, q: { data: new Float32Array(4 * 8 * 4), shape: [4, 8, 4] } }],
    ['pattern', { ...good, pattern: { kind: 'local', left: -2 } }],
    ['per-head length', { ...good, pattern: [causal(), causal()] }],
    ['scale', { ...good, scale: Number.NaN }],
    ['layout', { ...good, layout: 'hsbd' as never }],
    ['topk k', { ...good, pattern: { kind: 'topk', k: 0 } }],
  ];
  for (const [name, request] of bad) {
    it(`rejects ${name} exactly as planAttention does`, async () => {
      await useBackend('cpu');
      const host = caught(() => planAttention(request));
      const before = tf.memory().numTensors;
      const resident = residentError(request);
      expect(resident.code).toBe(host.code);
      expect(resident.message).toBe(host.message);
      expect(resident.field).toBe(host.field);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rejects non-tensors, non-float32 and disposed tensors with INVALID_ARGUMENT naming the field', async () => {
    await useBackend('cpu');
    const q = tf.zeros([1, 1, 4, 4]);
    const i32 = tf.zeros([1, 1, 4, 4], 'int32');
    const gone = tf.zeros([1, 1, 4, 4]);
    gone.dispose();
    const e1 = caught(() => sparseAttention(tf, { q: {} as never, k: q, v: q, pattern: causal() }));
    expect([e1.code, e1.field]).toEqual(['INVALID_ARGUMENT', 'q']);
    const e2 = caught(() => sparseAttention(tf, { q, k: i32, v: q, pattern: causal() }));
    expect([e2.code, e2.field]).toEqual(['INVALID_ARGUMENT', 'k.dtype']);
    const e3 = caught(() => sparseAttention(tf, { q, k: q, v: gone, pattern: causal() }));
    expect([e3.code, e3.field]).toEqual(['INVALID_ARGUMENT', 'v']);
    const e4 = caught(() => sparseAttention(tf, { q, k: q, v: q, pattern: causal() }, { blockQ: 0 }));
    expect([e4.code, e4.field]).toEqual(['INVALID_ARGUMENT', 'blockQ']);
    tf.dispose([q, i32]);
  });
});

describe('the host Backend', () => {
  it('is named tfjs, probes, runs both layouts and returns host tensors in the request layout', async () => {
    const be = tfjs({ tf, backendName: 'wasm' });
    const probe = await be.probe();
    expect(be.name).toBe('tfjs');
    expect(probe.available).toBe(true);
    expect(probe.device).toContain('"wasm" backend');
    expect(be.tolerance()).toEqual(FLOAT32_TOLERANCE);
    for (const layout of ['bhsd', 'bshd'] as const) {
      const request = makeRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 9, Sk: 14, D: 6, Dv: 5, layout, pattern: causal() });
      expect(be.supports(request)).toBe(true);
      const r = await be.attention(request);
      const ref = referenceAttention(request);
      expect(r.out.shape).toEqual(ref.out.shape);
      expect(r.lse!.shape).toEqual([1, 4, 9]);
      expectClose(r.out.data, ref.out.data, F32, `${layout} out`);
      expectClose(r.lse!.data, ref.lse!.data, F32, `${layout} lse`, true);
      const noLse = await be.attention({ ...request, returnLse: false });
      expect(noLse.lse).toBeUndefined();
    }
    await be.dispose();
  });

  it('uses the tf.js namespace of the peer dependency when none is given', async () => {
    const be = tfjs({ backendName: 'cpu' });
    expect((await be.probe()).available).toBe(true);
    const request = makeRequest({ name: 'x', Sq: 6, pattern: causal() });
    const r = await be.attention(request);
    expectClose(r.out.data, referenceAttention(request).out.data, F32, 'out');
    await be.dispose();
  });

  it('says why a request or a tf.js backend is not usable, and honours AbortSignal', async () => {
    const missing = await tfjs({ tf, backendName: 'no-such-backend' }).probe();
    expect(missing.available).toBe(false);
    expect(missing.reason).toContain('no-such-backend');
    const be = tfjs({ tf, backendName: 'cpu' });
    const request = makeRequest({ name: 'x', Sq: 6, pattern: causal() });
    expect(be.supports({ ...request, pattern: { kind: 'local', left: 1.5 } })).toMatch(/pattern/);
    const controller = new AbortController();
    controller.abort();
    await expect(be.attention(request, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(be.attention({ ...request, scale: Number.POSITIVE_INFINITY })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'scale' });
    await be.dispose();
    expect((await be.probe()).available).toBe(false);
  });
});

describe('dilated heads on the host Backend (residue partition)', () => {
  const cases = [
    makeRequest({ name: 'd=3', Hq: 4, Hkv: 2, Sq: 50, D: 6, pattern: { kind: 'dilated', dilation: 3, left: 5, right: 2 } }),
    makeRequest({ name: 'decoding', Sq: 4, Sk: 37, D: 6, layout: 'bshd', pattern: { kind: 'dilated', dilation: 4 } }),
    makeRequest({ name: 'Sk < d', Sq: 7, Sk: 2, D: 6, queryOffset: 0, pattern: { kind: 'dilated', dilation: 5 } }),
    makeRequest({ name: 'neighborhood', Sq: 41, D: 6, pattern: { kind: 'neighborhood', kernel: 5, dilation: 3, causal: true } }),
  ];
  it('matches the reference partitioned (default) and direct, and validates the option', async () => {
    for (const options of [{}, { partitionDilation: false }]) {
      const be = tfjs({ tf, backendName: 'wasm', ...options });
      for (const request of cases) {
        const r = await be.attention(request);
        const ref = referenceAttention(request);
        expectClose(r.out.data, ref.out.data, F32, `${JSON.stringify(options)} out`);
        expectClose(r.lse!.data, ref.lse!.data, F32, `${JSON.stringify(options)} lse`, true);
      }
      await be.dispose();
    }
    expect(() => tfjs({ tf, partitionDilation: 1 as never })).toThrow(/partitionDilation: must be a boolean/);
  });
});

describe('declared tolerance per tf.js backend', () => {
  it('is the float32 tolerance on cpu and wasm, looser on GPUs and much looser with half floats', () => {
    expect(toleranceFor('cpu')).toEqual(FLOAT32_TOLERANCE);
    expect(toleranceFor('wasm', 32)).toEqual(FLOAT32_TOLERANCE);
    expect(toleranceFor('webgl', 32).atol).toBeGreaterThan(FLOAT32_TOLERANCE.atol);
    expect(toleranceFor('webgl', 16).atol).toBeGreaterThan(toleranceFor('webgl', 32).atol);
  });
});
