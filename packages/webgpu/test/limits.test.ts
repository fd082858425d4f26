import { makeRequest } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { download, upload } from './support/buffers.js';
import { mismatch } from './support/data.js';
import { limitedBackends, probeGpu } from './support/gpu.js';

const gpu = await probeGpu();

const centroids = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 1],
];

describe.skipIf(!gpu.available)('device limits', () => {
  const make = limitedBackends();

  describe('splits inputs larger than maxStorageBufferBindingSize across dispatches', () => {
    let small: WebGpuBackend;
    beforeAll(() => {
      small = make({ maxStorageBufferBindingSize: 4096 });
    });
    const cases: [string, AttentionRequest][] = [
      ['by batch and head (bhsd, GQA)', makeRequest({ B: 3, Hq: 4, Hkv: 2, Sq: 12, D: 8 }, { kind: 'causal' })],
      ['by query blocks of one head, reading only the listed keys', makeRequest({ Sq: 150, D: 8 }, { kind: 'local', left: 10, right: 3 })],
      ['by query blocks in bshd (all heads)', makeRequest({ B: 2, Hq: 2, Hkv: 1, Sq: 70, Sk: 60, D: 4, layout: 'bshd' }, { kind: 'causal' })],
      ['top-k', makeRequest({ Hq: 2, Hkv: 1, Sq: 90, D: 16 }, { kind: 'topk', k: 5, within: { kind: 'local', left: 20, right: 0 } })],
      [
        'cluster',
        makeRequest(
          { Hq: 2, Sq: 100, D: 12 },
          { kind: 'cluster', centroids: centroids.map((c) => [...c, ...c, ...c]), within: { kind: 'local', left: 12, right: 12 } },
        ),
      ],
    ];
    for (const [name, request] of cases) {
      it(name, async () => {
        expect(mismatch(request, await small.attention(request))).toBeNull();
        expect(small.lastRun()!.chunks).toBeGreaterThan(1);
      });
    }

    it('on the resident path, with aligned binding offsets', async () => {
      const request = makeRequest({ Hq: 2, Sq: 300, D: 5 }, { kind: 'local', left: 9, right: 9 });
      const device = await small.device();
      const t = (x: AttentionRequest['q']) => ({ buffer: upload(device, x.data), shape: x.shape });
      const res = await small.attentionResident({ q: t(request.q), k: t(request.k), v: t(request.v), pattern: request.pattern, returnLse: true });
      expect(small.lastRun()!.chunks).toBeGreaterThan(2);
      const got = {
        out: { data: await download(device, res.out.buffer, 2 * 300 * 5), shape: res.out.shape },
        lse: { data: await download(device, res.lse!.buffer, 600), shape: [1, 2, 300] },
      };
      expect(mismatch(request, got)).toBeNull();
    });
  });

  it('uploads chunk by chunk when a tensor exceeds maxBufferSize', async () => {
    const b = make({ maxBufferSize: 4096, maxStorageBufferBindingSize: 4096 });
    const request = makeRequest({ B: 2, Hq: 2, Sq: 80, D: 8 }, { kind: 'local', left: 6, right: 6 });
    expect(mismatch(request, await b.attention(request))).toBeNull();
    expect(b.lastRun()!.submits).toBe(b.lastRun()!.chunks + 1);
  });

  it('splits grids larger than maxComputeWorkgroupsPerDimension (and slices the labels pass)', async () => {
    const b = make({ maxComputeWorkgroupsPerDimension: 2 });
    const pattern: Pattern = { kind: 'cluster', centroids };
    const request = makeRequest({ B: 3, Hq: 3, Hkv: 1, Sq: 100, Sk: 90, D: 4 }, pattern);
    expect(mismatch(request, await b.attention(request))).toBeNull();
    expect(b.lastRun()!.chunks).toBeGreaterThan(3);
  });

  it('refuses with RESOURCE_LIMIT before allocating when one query block cannot fit', async () => {
    const b = make({ maxStorageBufferBindingSize: 512 });
    const request = makeRequest({ Sq: 40, D: 64 }, { kind: 'causal' });
    expect(b.supports(request)).toMatch(/maxStorageBufferBindingSize/);
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', field: expect.stringMatching(/^[qkv]\.shape$/) });
    expect(b.lastRun()).toBeNull();
  });

  it('refuses head dims whose tiles exceed maxComputeWorkgroupStorageSize', async () => {
    const b = make({ maxComputeWorkgroupStorageSize: 1024 });
    const request = makeRequest({ Sq: 4, D: 256 }, { kind: 'dense' });
    expect(b.supports(request)).toMatch(/maxComputeWorkgroupStorageSize/);
    await expect(b.attention(request)).rejects.toMatchObject({ code: 'RESOURCE_LIMIT', field: 'q.shape[3]' });
  });

  it('picks a smaller key block when workgroup memory is tight', async () => {
    const b = make({ maxComputeWorkgroupStorageSize: 8192 });
    const request = makeRequest({ Sq: 30, D: 64 }, { kind: 'causal' });
    expect(mismatch(request, await b.attention(request))).toBeNull();
    expect(b.lastRun()!.blockK).toBeLessThan(32);
  });
});
