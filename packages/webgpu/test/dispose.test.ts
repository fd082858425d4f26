import { makeRequest } from '@sparse/conformance/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, webgpu } from '../src/index.js';
import { upload } from './support/buffers.js';
import { mismatch } from './support/data.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

describe.skipIf(!gpu.available)('dispose() is final and idempotent', () => {
  const request = makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'causal' });
  const others: WebGpuBackend[] = [];
  afterAll(async () => {
    await Promise.all(others.map((b) => b.dispose()));
  });

  it('afterwards probe() says why, supports() returns the reason, and every call rejects BACKEND_UNAVAILABLE', async () => {
    const b = webgpu(TEST_OPTIONS);
    expect(mismatch(request, await b.attention(request))).toBeNull();
    await b.dispose();
    await b.dispose();
    const probe = await b.probe();
    expect(probe).toMatchObject({ available: false, reason: expect.stringMatching(/disposed/) });
    expect(b.supports(request)).toBe(probe.reason);
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend', message: probe.reason });
    await expect(b.device()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const owner = webgpu(TEST_OPTIONS);
    others.push(owner);
    const device = await owner.device();
    const t = (x: typeof request.q) => ({ buffer: upload(device, x.data), shape: x.shape });
    await expect(b.attentionResident({ q: t(request.q), k: t(request.k), v: t(request.v), pattern: request.pattern })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
    });
  });

  it('is final even before a device was ever created', async () => {
    const b = webgpu(TEST_OPTIONS);
    await b.dispose();
    expect(b.supports(request)).toMatch(/disposed/);
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('a call in flight when dispose() begins finishes or rejects with a typed error that says the backend was disposed', async () => {
    const b = webgpu(TEST_OPTIONS);
    await b.device();
    const call = b.attention(request);
    await b.dispose();
    const settled = await call.then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    if (settled.ok) expect(mismatch(request, settled.r)).toBeNull();
    else {
      expect(settled.e).toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend', message: expect.stringMatching(/disposed/) });
      expect((settled.e as Error).message).not.toMatch(/next call creates a new device/);
    }
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('an AbortSignal that fires during a call rejects ABORTED with field "signal"', async () => {
    const b = webgpu(TEST_OPTIONS);
    others.push(b);
    await b.device();
    const c = new AbortController();
    const call = b.attention(request, { signal: c.signal });
    c.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED', field: 'signal' });
    expect(mismatch(request, await b.attention(request))).toBeNull();
  });
});
