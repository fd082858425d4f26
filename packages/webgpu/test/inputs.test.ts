import { makeRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, webgpu } from '../src/index.js';
import { mismatch } from './support/data.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

function onShared(data: Float32Array): Float32Array {
  const copy = new Float32Array(new SharedArrayBuffer(data.byteLength));
  copy.set(data);
  return copy;
}

function detach(data: Float32Array): void {
  structuredClone(data.buffer, { transfer: [data.buffer as ArrayBuffer] });
}

/** A copy of the request's arrays, so tampering with one request leaves the other as it was. */
function cloneRequest(r: AttentionRequest): AttentionRequest {
  const t = (x: AttentionRequest['q']) => ({ data: x.data.slice(), shape: [...x.shape] });
  return { ...r, q: t(r.q), k: t(r.k), v: t(r.v), pattern: structuredClone(r.pattern) as Pattern };
}

describe.skipIf(!gpu.available)('inputs belong to the caller again when attention() returns', () => {
  let backend: WebGpuBackend;
  beforeAll(() => {
    backend = webgpu(TEST_OPTIONS);
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('runs inputs that live on a SharedArrayBuffer', async () => {
    const plain = makeRequest({ Hq: 2, Sq: 19, D: 8 }, { kind: 'causal' });
    const shared = { ...plain, q: { ...plain.q, data: onShared(plain.q.data) }, k: { ...plain.k, data: onShared(plain.k.data) } };
    shared.v = { ...plain.v, data: onShared(plain.v.data) };
    const got = await backend.attention(shared);
    const ref = referenceAttention(plain);
    expect(mismatch(plain, got)).toBeNull();
    expect(got.out.data.length).toBe(ref.out.data.length);
  });

  for (const when of ['the first call', 'a warm device']) {
    it(`reads q, k, v before returning its promise (${when})`, async () => {
      const b = when === 'the first call' ? webgpu(TEST_OPTIONS) : backend;
      try {
        if (when === 'a warm device') await b.device();
        const request = makeRequest({ Sq: 23, D: 8, seed: 5 }, { kind: 'local', left: 3, right: 3 });
        const untouched = cloneRequest(request);
        // A call of the same size first, so a pooled buffer holding other numbers is at hand.
        await b.attention(makeRequest({ Sq: 23, D: 8, seed: 9 }, { kind: 'local', left: 3, right: 3 }));
        const call = b.attention(request);
        request.q.data.fill(7);
        detach(request.k.data);
        expect(mismatch(untouched, await call)).toBeNull();
      } finally {
        if (b !== backend) await b.dispose();
      }
    });
  }

  it('reads q, k, v before returning its promise when they are uploaded chunk by chunk', async () => {
    const small = webgpu({ ...TEST_OPTIONS, limits: { maxBufferSize: 2048, maxStorageBufferBindingSize: 2048 } });
    try {
      await small.device();
      const request = makeRequest({ Hq: 2, Sq: 60, D: 8, seed: 11 }, { kind: 'local', left: 4, right: 1 });
      request.k = { ...request.k, data: onShared(request.k.data) };
      const untouched = cloneRequest(request);
      const call = small.attention(request);
      request.q.data.fill(3);
      request.k.data.fill(3);
      detach(request.v.data);
      expect(mismatch(untouched, await call)).toBeNull();
      expect(small.lastRun()!.chunks).toBeGreaterThan(1);
    } finally {
      await small.dispose();
    }
  });

  it('compiles the pattern as it was when attention() was called', async () => {
    const pattern: Pattern = { kind: 'explicit', rowPtr: [0, 2, 3, 5, 6], colIdx: [0, 5, 1, 2, 3, 4] };
    const request = makeRequest({ Sq: 4, Sk: 6, D: 8 }, pattern);
    const untouched = cloneRequest(request);
    const call = backend.attention(request);
    (pattern as { colIdx: number[] }).colIdx.fill(0);
    expect(mismatch(untouched, await call)).toBeNull();
  });

  it('reads the inputs of every residue group before returning (dilated pattern)', async () => {
    const request = makeRequest({ Sq: 40, D: 8, seed: 3 }, { kind: 'dilated', dilation: 3, left: 2, right: 2 });
    const untouched = cloneRequest(request);
    const call = backend.attention(request);
    request.v.data.fill(-5);
    detach(request.q.data);
    expect(mismatch(untouched, await call)).toBeNull();
  });

  for (const name of ['q', 'k', 'v'] as const) {
    it(`refuses a detached ${name}.data with INVALID_ARGUMENT`, async () => {
      const request = makeRequest({ Sq: 5, D: 4 }, { kind: 'dense' });
      detach(request[name].data);
      await expect(backend.attention(request)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: `${name}.data` });
      expect(backend.supports(request)).toMatch(new RegExp(`${name}\\.data`));
    });
  }
});
