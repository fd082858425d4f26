import { makeRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, AttentionResult } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebGpuBackend, type WebGpuResidentRequest, webgpu } from '../src/index.js';
import { download, upload } from './support/buffers.js';
import { mismatch } from './support/data.js';
import { probeGpu, TEST_OPTIONS } from './support/gpu.js';

const gpu = await probeGpu();

function toBuffers(device: GPUDevice, r: AttentionRequest): WebGpuResidentRequest {
  const t = (x: AttentionRequest['q']) => ({ buffer: upload(device, x.data), shape: x.shape });
  return { q: t(r.q), k: t(r.k), v: t(r.v), pattern: r.pattern, layout: r.layout, scale: r.scale, queryOffset: r.queryOffset, returnLse: r.returnLse };
}

async function hostResult(device: GPUDevice, out: { buffer: GPUBuffer; shape: readonly number[] }, lse?: { buffer: GPUBuffer; shape: readonly number[] }) {
  const n = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const result: AttentionResult = { out: { data: await download(device, out.buffer, n(out.shape)), shape: out.shape } };
  if (lse) result.lse = { data: await download(device, lse.buffer, n(lse.shape)), shape: lse.shape };
  return result;
}

describe.skipIf(!gpu.available)('resident GPUBuffer path', () => {
  let backend: WebGpuBackend;
  let device: GPUDevice;
  beforeAll(async () => {
    backend = webgpu(TEST_OPTIONS);
    device = await backend.device();
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('reads GPUBuffers and writes new output buffers (bshd, GQA, lse)', async () => {
    const request = makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 19, Sk: 27, D: 8, Dv: 6, layout: 'bshd' }, { kind: 'causal' });
    const res = await backend.attentionResident(toBuffers(device, request));
    expect(res.out.shape).toEqual([2, 19, 4, 6]);
    expect(res.lse?.shape).toEqual([2, 4, 19]);
    expect(mismatch(request, await hostResult(device, res.out, res.lse))).toBeNull();
    res.out.buffer.destroy();
    res.lse?.buffer.destroy();
  });

  it('writes into caller-provided out and lse buffers', async () => {
    const request = makeRequest({ Hq: 2, Sq: 21, D: 8 }, { kind: 'local', left: 3, right: 3 });
    const out = upload(device, new Float32Array(2 * 21 * 8).fill(7));
    const lse = upload(device, new Float32Array(2 * 21).fill(7));
    const res = await backend.attentionResident({ ...toBuffers(device, request), out, lse });
    expect(res.out.buffer).toBe(out);
    expect(res.lse?.buffer).toBe(lse);
    expect(mismatch(request, await hostResult(device, res.out, res.lse))).toBeNull();
  });

  it('chains two layers on the device without a host round trip', async () => {
    const first = makeRequest({ Sq: 24, D: 8 }, { kind: 'causal' }, { returnLse: false });
    const a = await backend.attentionResident(toBuffers(device, first));
    const k2 = upload(device, first.k.data);
    const v2 = upload(device, first.v.data);
    const b = await backend.attentionResident({
      q: a.out,
      k: { buffer: k2, shape: first.k.shape },
      v: { buffer: v2, shape: first.v.shape },
      pattern: { kind: 'causal' },
    });
    // Host chain for comparison: out1 = attention(first); out2 = attention(out1, k, v).
    const out1 = referenceAttention(first).out;
    const second: AttentionRequest = { ...first, q: out1 };
    expect(mismatch(second, await hostResult(device, b.out))).toBeNull();
  });

  it('runs on a device the caller owns, and leaves it alive on dispose', async () => {
    const mine = webgpu({ device });
    const request = makeRequest({ Sq: 10, D: 4 }, { kind: 'dense' });
    const res = await mine.attentionResident(toBuffers(device, request));
    expect(mismatch(request, await hostResult(device, res.out, res.lse))).toBeNull();
    expect(await mine.device()).toBe(device);
    await mine.dispose();
    // The device still works for its owner.
    expect(mismatch(request, await backend.attention(request))).toBeNull();
  });

  it('validates buffers before touching the device', async () => {
    const request = makeRequest({ Sq: 8, D: 4 }, { kind: 'dense' });
    const bufs = toBuffers(device, request);
    const small = upload(device, new Float32Array(4));
    await expect(backend.attentionResident({ ...bufs, q: { buffer: small, shape: request.q.shape } })).rejects.toMatchObject({
      code: 'INVALID_SHAPE',
      field: 'q.buffer.size',
    });
    const noStorage = device.createBuffer({ size: 1024, usage: 0x1 | 0x8 });
    await expect(backend.attentionResident({ ...bufs, k: { buffer: noStorage, shape: request.k.shape } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'k.buffer.usage',
    });
    await expect(backend.attentionResident({ ...bufs, q: { buffer: bufs.q.buffer, shape: [1, 1, 8] } })).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
    await expect(backend.attentionResident({ ...bufs, out: bufs.q.buffer })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'out' });
  });
});
