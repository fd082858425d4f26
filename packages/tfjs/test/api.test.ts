import { assertClose, FLOAT32_TOLERANCE, rejection } from '@sparse/conformance/testing';
import { type AttentionRequest, causal, isSparseAttentionError, type SparseAttentionError } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { referenceAttention } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { tfjs, toleranceFor } from '../src/index.js';
import { caseRequest, LSE_F32, tf, upload, useBackend, viaResident } from './helpers.js';

function caught(fn: () => unknown): SparseAttentionError {
  try {
    fn();
  } catch (e) {
    if (isSparseAttentionError(e)) return e;
    throw e;
  }
  throw new Error('expected a SparseAttentionError');
}

const resident = tfjs({ tf, backendName: 'cpu' });

async function residentError(request: AttentionRequest): Promise<SparseAttentionError> {
  const inputs = upload(request);
  try {
    return await rejection(resident.attentionResident({ ...request, ...inputs }));
  } finally {
    tf.dispose([inputs.q, inputs.k, inputs.v]);
  }
}

describe('validation of the resident entry point (core planAttention, same codes and messages)', () => {
  const good = caseRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 8, D: 4, pattern: causal() });
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
      const e = await residentError(request);
      expect(e.code).toBe(host.code);
      expect(e.message).toBe(host.message);
      expect(e.field).toBe(host.field);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rejects non-tensors, non-float32 and disposed tensors with INVALID_ARGUMENT naming the field', async () => {
    await useBackend('cpu');
    const q = tf.zeros([1, 1, 4, 4]);
    const i32 = tf.zeros([1, 1, 4, 4], 'int32');
    const gone = tf.zeros([1, 1, 4, 4]);
    gone.dispose();
    const e1 = await rejection(resident.attentionResident({ q: {} as never, k: q, v: q, pattern: causal() }));
    expect([e1.code, e1.field]).toEqual(['INVALID_ARGUMENT', 'q']);
    const e2 = await rejection(resident.attentionResident({ q, k: i32, v: q, pattern: causal() }));
    expect([e2.code, e2.field]).toEqual(['INVALID_ARGUMENT', 'k.dtype']);
    const e3 = await rejection(resident.attentionResident({ q, k: q, v: gone, pattern: causal() }));
    expect([e3.code, e3.field]).toEqual(['INVALID_ARGUMENT', 'v']);
    const e4 = caught(() => tfjs({ tf, tiles: { blockQ: 0 } }));
    expect([e4.code, e4.field]).toEqual(['INVALID_ARGUMENT', 'tiles.blockQ']);
    // The flat tile options of earlier versions are refused by name, with where they went.
    const e5 = caught(() => tfjs({ tf, blockQ: 16 } as never));
    expect([e5.code, e5.field, e5.message]).toEqual(['INVALID_ARGUMENT', 'blockQ', expect.stringContaining('tiles: { blockQ }')]);
    tf.dispose([q, i32]);
  });
});

describe('attentionResident: the kit gates, tensors in and out', () => {
  const request = caseRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 12, D: 4, pattern: causal() });

  it('runs on the named tf.js backend, leaves the inputs alone and gives the caller out and lse; lastRun says what ran', async () => {
    await useBackend('cpu');
    const be = tfjs({ tf, backendName: 'wasm', tiles: { blockQ: 8, blockK: 8 } });
    const inputs = upload(request);
    const before = tf.memory().numTensors;
    const r = await be.attentionResident({ ...request, ...inputs });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(before + 2);
    expect([r.out.shape, r.lse!.shape]).toEqual([
      [1, 4, 12, 4],
      [1, 4, 12],
    ]);
    const ref = referenceAttention(request);
    assertClose((await r.out.data()) as Float32Array, ref.out.data, FLOAT32_TOLERANCE, 'out');
    assertClose((await r.lse!.data()) as Float32Array, ref.lse!.data, LSE_F32, 'lse');
    expect(inputs.q.isDisposed || inputs.k.isDisposed || inputs.v.isDisposed).toBe(false);
    expect(be.lastRun()).toMatchObject({ backend: 'tfjs', pieces: 1, tfBackend: 'wasm', strategy: 'plain', take: 'gatherNd', headGroups: 1 });
    tf.dispose([r.out, r.lse!, inputs.q, inputs.k, inputs.v]);
    await be.dispose();
  });

  it('refuses an aborted call and a disposed backend first, like attention(), leaving no tensor behind', async () => {
    await useBackend('cpu');
    const be = tfjs({ tf, backendName: 'cpu' });
    const inputs = upload(request);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    controller.abort();
    const aborted = await rejection(be.attentionResident({ ...request, ...inputs }, { signal: controller.signal }));
    expect([aborted.code, aborted.field]).toEqual(['ABORTED', 'signal']);
    const late = new AbortController();
    const pending = be.attentionResident({ ...request, ...inputs }, { signal: late.signal });
    late.abort();
    expect(await rejection(pending)).toMatchObject({ code: 'ABORTED', field: 'signal' });
    const inFlight = be.attentionResident({ ...request, ...inputs });
    await be.dispose();
    const finished = await inFlight; // a call made before dispose() finishes
    tf.dispose([finished.out, finished.lse!]);
    // Disposed: refused first, even for an invalid request.
    for (const r of [request, { ...request, scale: Number.NaN }]) {
      const e = await rejection(be.attentionResident({ ...r, ...inputs }));
      expect([e.code, e.field, e.message]).toEqual(['BACKEND_UNAVAILABLE', 'backend', expect.stringMatching(/disposed/)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inputs.q, inputs.k, inputs.v]);
  });

  it('shares the resource estimate of supports() and attention(), and refuses inputs disposed before the call runs', async () => {
    await useBackend('wasm');
    const refused = tfjs({ tf, backendName: 'wasm', maxScoreElements: 2 ** 27 });
    const reason = refused.supports(request);
    const inputs = upload(request);
    expect(await rejection(refused.attentionResident({ ...request, ...inputs }))).toMatchObject({ code: 'RESOURCE_LIMIT', field: 'request', message: reason });
    // Tensors made inside a tf.tidy are gone by the time the call runs (it runs after the tidy).
    const be = tfjs({ tf, backendName: 'wasm' });
    let pending: Promise<unknown> = Promise.resolve();
    tf.tidy(() => {
      const q = tf.tensor(request.q.data, [...request.q.shape]);
      pending = be.attentionResident({ ...request, ...inputs, q });
    });
    expect(await rejection(pending)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'q', message: expect.stringMatching(/disposed/) });
    tf.dispose([inputs.q, inputs.k, inputs.v]);
    await be.dispose();
  });

  it('matches the host Backend bit for bit on the same tf.js backend', async () => {
    await useBackend('wasm');
    const be = tfjs({ tf, backendName: 'wasm' });
    const host = await be.attention({ ...request, returnLse: true });
    const res = await viaResident(be, { ...request, returnLse: true });
    expect(Array.from(res.out.data)).toEqual(Array.from(host.out.data));
    expect(Array.from(res.lse!.data)).toEqual(Array.from(host.lse!.data));
    await be.dispose();
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
      const request = caseRequest({ name: 'x', Hq: 4, Hkv: 2, Sq: 9, Sk: 14, D: 6, Dv: 5, layout, pattern: causal() });
      expect(be.supports(request)).toBe(true);
      const r = await be.attention(request);
      const ref = referenceAttention(request);
      expect(r.out.shape).toEqual(ref.out.shape);
      expect(r.lse!.shape).toEqual([1, 4, 9]);
      assertClose(r.out.data, ref.out.data, FLOAT32_TOLERANCE, `${layout} out`);
      assertClose(r.lse!.data, ref.lse!.data, LSE_F32, `${layout} lse`);
      const noLse = await be.attention({ ...request, returnLse: false });
      expect(noLse.lse).toBeUndefined();
    }
    await be.dispose();
  });

  it('uses the tf.js namespace of the peer dependency when none is given', async () => {
    const be = tfjs({ backendName: 'cpu' });
    expect((await be.probe()).available).toBe(true);
    const request = caseRequest({ name: 'x', Sq: 6, pattern: causal() });
    const r = await be.attention(request);
    assertClose(r.out.data, referenceAttention(request).out.data, FLOAT32_TOLERANCE, 'out');
    await be.dispose();
  });

  it('says why a request or a tf.js backend is not usable, and honours AbortSignal', async () => {
    const missing = await tfjs({ tf, backendName: 'no-such-backend' }).probe();
    expect(missing.available).toBe(false);
    expect(missing.reason).toContain('no-such-backend');
    const be = tfjs({ tf, backendName: 'cpu' });
    const request = caseRequest({ name: 'x', Sq: 6, pattern: causal() });
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
    caseRequest({ name: 'd=3', Hq: 4, Hkv: 2, Sq: 50, D: 6, pattern: { kind: 'dilated', dilation: 3, left: 5, right: 2 } }),
    caseRequest({ name: 'decoding', Sq: 4, Sk: 37, D: 6, layout: 'bshd', pattern: { kind: 'dilated', dilation: 4 } }),
    caseRequest({ name: 'Sk < d', Sq: 7, Sk: 2, D: 6, queryOffset: 0, pattern: { kind: 'dilated', dilation: 5 } }),
    caseRequest({ name: 'neighborhood', Sq: 41, D: 6, pattern: { kind: 'neighborhood', kernel: 5, dilation: 3, causal: true } }),
  ];
  it('matches the reference partitioned (default) and direct, and validates the option', async () => {
    for (const options of [{}, { partitionDilation: false }]) {
      const be = tfjs({ tf, backendName: 'wasm', ...options });
      for (const request of cases) {
        const r = await be.attention(request);
        const ref = referenceAttention(request);
        assertClose(r.out.data, ref.out.data, FLOAT32_TOLERANCE, `${JSON.stringify(options)} out`);
        assertClose(r.lse!.data, ref.lse!.data, LSE_F32, `${JSON.stringify(options)} lse`);
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
