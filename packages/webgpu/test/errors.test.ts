import { makeRequest } from '@sparse/conformance/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, webgpu } from '../src/index.js';
import { compileKernel } from '../src/pipelines.js';
import { upload } from './support/buffers.js';
import { mismatch } from './support/data.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

describe('errors without a device', () => {
  const untouchable = {
    requestAdapter: () => {
      throw new Error('the GPU must not be touched');
    },
  } as unknown as GPU;

  it('validates the request before looking for a device', async () => {
    const b = webgpu({ gpu: untouchable });
    const request = makeRequest({ Sq: 4, D: 4 }, { kind: 'causal' });
    await expect(b.attention({ ...request, k: { data: new Float32Array(12), shape: [1, 1, 4, 3] } })).rejects.toMatchObject({
      code: 'INVALID_SHAPE',
      field: 'k.shape[3]',
    });
    expect(b.supports({ ...request, pattern: { kind: 'local', left: -1 } })).toMatch(/pattern/);
    await b.dispose();
  });

  it('probe() explains how to get an adapter when there is none', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    const b = webgpu({ gpu: none });
    const p = await b.probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/no WebGPU adapter/);
    expect(p.reason).toMatch(/vk_swiftshader_icd\.json|chromium/);
    await expect(b.attention(makeRequest({ Sq: 2, D: 2 }, { kind: 'dense' }))).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await b.dispose();
  });

  it('rejects bad options at construction with the field name', () => {
    const thrown = (options: unknown) => {
      try {
        webgpu({ gpu: untouchable, ...(options as object) });
      } catch (e) {
        return e;
      }
      return 'no error';
    };
    expect(thrown({ tiles: { blockK: 64 } })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'tiles.blockK',
      message: expect.stringMatching(/tiles\.blockK/),
    });
    expect(thrown({ tiles: { blockQ: 65 } })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tiles.blockQ' });
    expect(thrown({ tiles: { blockQ: 0.5 } })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tiles.blockQ' });
    expect(thrown({ blockK: 8 })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'blockK', message: expect.stringMatching(/tiles: \{ blockK \}/) });
    expect(thrown({ maskCacheSize: -1 })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'maskCacheSize' });
    expect(thrown({ limits: { maxBufferSize: -1 } })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'limits.maxBufferSize' });
    expect(thrown({ limits: { maxBufferSise: 1024 } })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'limits.maxBufferSise' });
    expect(thrown({ powerPreference: 'fast' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'powerPreference' });
    expect(thrown({ asyncPipelines: 1 })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'asyncPipelines' });
    expect(thrown({ dawnFlags: 'backend=vulkan' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dawnFlags' });
    expect(thrown({ software: 3 })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'software' });
    expect(thrown({ device: {} })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'device' });
    expect(thrown({ gpu: {} })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'gpu' });
    expect(thrown({ tiles: { blockQ: 64, blockK: 32 }, limits: { maxBufferSize: 4096 }, software: true })).toBe('no error');
  });

  it('stops before any work when the signal is already aborted', async () => {
    const b = webgpu({ gpu: untouchable });
    const c = new AbortController();
    c.abort();
    await expect(b.attention(makeRequest({ Sq: 2, D: 2 }, { kind: 'dense' }), { signal: c.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe.skipIf(!gpu.available)('errors on a device', () => {
  let backend: WebGpuBackend;
  beforeAll(() => {
    backend = webgpu(TEST_OPTIONS);
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('surfaces WGSL compile errors with the compiler message', async () => {
    const device = await backend.device();
    const failure = compileKernel(device, 'broken', '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }', { 0: 'uniform' });
    await expect(failure).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(failure).rejects.toThrow(/kernel "broken" failed to compile: line 1/);
  });

  it('surfaces validation errors (a destroyed input buffer) instead of returning zeros', async () => {
    const device = await backend.device();
    const request = makeRequest({ Sq: 8, D: 4 }, { kind: 'dense' });
    const q = upload(device, request.q.data);
    const k = upload(device, request.k.data);
    const v = upload(device, request.v.data);
    q.destroy();
    await expect(
      backend.attentionResident({
        q: { buffer: q, shape: request.q.shape },
        k: { buffer: k, shape: request.k.shape },
        v: { buffer: v, shape: request.v.shape },
        pattern: { kind: 'dense' },
      }),
    ).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/validation error/) });
    // The backend keeps working afterwards.
    expect(mismatch(request, await backend.attention(request))).toBeNull();
  });

  it('surfaces a buffer from another device as a validation error', async () => {
    const other = webgpu(TEST_OPTIONS);
    try {
      const foreign = await other.device();
      const request = makeRequest({ Sq: 8, D: 4 }, { kind: 'dense' });
      const mine = await backend.device();
      await expect(
        backend.attentionResident({
          q: { buffer: upload(foreign, request.q.data), shape: request.q.shape },
          k: { buffer: upload(mine, request.k.data), shape: request.k.shape },
          v: { buffer: upload(mine, request.v.data), shape: request.v.shape },
          pattern: { kind: 'dense' },
        }),
      ).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      await other.dispose();
    }
  });

  it('replaces its own device after a loss between calls', async () => {
    const b = webgpu(TEST_OPTIONS);
    try {
      const request = makeRequest({ Sq: 12, D: 4 }, { kind: 'causal' });
      const first = await b.device();
      first.destroy();
      await first.lost;
      expect(mismatch(request, await b.attention(request))).toBeNull();
      expect(await b.device()).not.toBe(first);
    } finally {
      await b.dispose();
    }
  });

  it('reports DEVICE_LOST when the device is lost during a call, then recovers', async () => {
    const b = webgpu(TEST_OPTIONS);
    try {
      const request = makeRequest({ Sq: 12, D: 4 }, { kind: 'causal' });
      const device = await b.device();
      const call = b.attention(request);
      device.destroy();
      await expect(call).rejects.toMatchObject({ code: 'DEVICE_LOST', message: expect.stringMatching(/next call creates a new device/) });
      expect(mismatch(request, await b.attention(request))).toBeNull();
    } finally {
      await b.dispose();
    }
  });

  it("reports DEVICE_LOST on every call once a caller's device is lost", async () => {
    const owner = webgpu(TEST_OPTIONS);
    try {
      const device = await owner.device();
      const b = webgpu({ device });
      const request = makeRequest({ Sq: 6, D: 4 }, { kind: 'dense' });
      expect(mismatch(request, await b.attention(request))).toBeNull();
      device.destroy();
      await device.lost;
      await expect(b.attention(request)).rejects.toMatchObject({ code: 'DEVICE_LOST', field: 'device' });
      await expect(b.attention(request)).rejects.toMatchObject({ code: 'DEVICE_LOST' });
    } finally {
      await owner.dispose();
    }
  });
});
