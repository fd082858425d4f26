// The backend API every backend shares (core's kit) on cuda-native over the addon model: probe() and lastRun()
// with the addon's own figures, the pieces of a dilated call, the tiles request, and that the caller's arrays
// are the caller's again once a call returned (the addon, like its model, reads host arrays on its worker thread).

import { FLOAT32_TOLERANCE, makeRequest, resultMismatch } from '@sparse/conformance/testing';
import type { AttentionRequest } from '@sparse/core';
import { referenceAttention64, toResult } from '@sparse/core/reference';
import { describe, expect, it } from 'vitest';
import { TOLERANCES, toleranceFor } from '../src/tolerance.js';
import { modelBinding } from './addon-model.js';
import { modelBackend } from './model-backend.js';

const spoil = (r: AttentionRequest) => {
  r.q.data.fill(Number.NaN);
  r.k.data.fill(Number.NaN);
  r.v.data.fill(Number.NaN);
};

describe('the kit API of cuda-native over the addon model', () => {
  it('probe() and lastRun() carry the device, the kernel and where the addon came from', async () => {
    const b = modelBackend({ precision: 'bfloat16' });
    expect(b.lastRun()).toBeNull();
    const probe = await b.probe();
    expect(probe).toMatchObject({ available: true, device: expect.stringMatching(/^model, bfloat16 storage \(addon: test\/addon-model\.ts, /) });
    await b.attention(makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 20, Sk: 20, D: 80, Dv: 80 }, { kind: 'causal' }));
    expect(b.lastRun()).toMatchObject({
      backend: 'cuda-native',
      device: probe.device,
      pieces: 1,
      kernel: 'mma128',
      blockQ: 64,
      blockK: 64,
      precision: 'bfloat16',
      addon: { path: 'model', source: 'test/addon-model.ts', build: { archs: 'model' } },
    });
    expect(b.lastRun()!.ms).toBeGreaterThanOrEqual(0);
    await b.dispose();
  });

  it('tolerance() needs no probe: the request’s derived tolerance, or the nominal one', () => {
    const b = modelBackend({ precision: 'float16' });
    const req = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 8, Sk: 8, D: 8, Dv: 8 }, { kind: 'causal' });
    expect(b.tolerance()).toEqual(TOLERANCES.float16);
    expect(b.tolerance(req)).toEqual(toleranceFor('float16', req));
    expect(modelBackend().tolerance(req)).toEqual({ atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
  });

  it('runs a dilated call as its residue groups (partitionDilation), or whole when asked', async () => {
    const req = makeRequest({ B: 2, Hq: 2, Hkv: 1, Sq: 37, Sk: 37, D: 8, Dv: 8, layout: 'bshd' }, { kind: 'dilated', dilation: 3, left: 6, right: 6 });
    const want = toResult(referenceAttention64(req));
    for (const [partitionDilation, pieces] of [
      [true, 3],
      [false, 1],
    ] as const) {
      const b = modelBackend({ partitionDilation });
      const got = await b.attention(req);
      expect(resultMismatch(got, want, FLOAT32_TOLERANCE, `partitionDilation ${partitionDilation}`)).toBeNull();
      expect(b.lastRun()!.pieces).toBe(pieces);
      await b.dispose();
    }
  });

  it('tiles are a request: a call whose kernel runs other tiles is refused, before and after the device started', async () => {
    const req = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 20, Sk: 20, D: 8, Dv: 8 }, { kind: 'causal' });
    const wide = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 20, Sk: 20, D: 200, Dv: 200 }, { kind: 'causal' });
    const bf16 = modelBackend({ precision: 'bfloat16', tiles: { blockQ: 64, blockK: 64 } });
    for (const started of [false, true]) {
      if (started) await bf16.probe();
      expect(bf16.supports(req)).toBe(true);
      expect(bf16.supports(wide)).toMatch(
        /^cuda-native: tiles \{ blockQ: 64, blockK: 64 \} were requested, but this call runs on the mma256 kernel .* 64 × 32;/,
      );
      await expect(bf16.attention(wide)).rejects.toMatchObject({ code: 'UNSUPPORTED', field: 'tiles' });
    }
    expect(resultMismatch(await bf16.attention(req), { out: toResult(referenceAttention64(req)).out }, bf16.tolerance(req))).toBeNull();
    const f32 = modelBackend({ tiles: { blockK: 64 } });
    expect(f32.supports(req)).toMatch(
      /tiles \{ blockK: 64 \} were requested, but this call runs on the simt kernel \(float32 storage\), compiled for tiles 32 × 32/,
    );
    await expect(f32.upload(req.q).then((q) => f32.attentionResident({ ...req, q }))).rejects.toMatchObject({ code: 'UNSUPPORTED', field: 'tiles' });
    await Promise.all([bf16.dispose(), f32.dispose()]);
  });

  it("the caller's arrays are the caller's again once attention(), attentionResident() or upload() returned", async () => {
    const make = () => makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 33, Sk: 33, D: 16, Dv: 16 }, { kind: 'local', left: 5, right: 2 });
    const want = toResult(referenceAttention64(make()));
    for (const started of [false, true]) {
      const b = modelBackend();
      if (started) await b.probe(); // started and free: the kit hands the caller's own arrays to run()
      const req = make();
      const pending = b.attention(req);
      spoil(req);
      expect(resultMismatch(await pending, { out: want.out }, FLOAT32_TOLERANCE, `attention (started ${started})`)).toBeNull();

      const host = make();
      const k = b.upload(host.k);
      const v = b.upload(host.v);
      const resident = b.attentionResident({ ...host, k: await k, v: await v });
      spoil(host);
      const out = await b.download((await resident).out);
      expect(resultMismatch({ out }, { out: want.out }, FLOAT32_TOLERANCE, `attentionResident (started ${started})`)).toBeNull();
      await b.dispose();
    }
  });

  it('dispose() frees the tensors on the addon, and the backend says disposed everywhere', async () => {
    const binding = modelBinding();
    const b = modelBackend({}, binding);
    const req = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 8, Sk: 8, D: 8, Dv: 8 }, { kind: 'causal' });
    await b.upload(req.q);
    await b.empty([4, 4]);
    expect(b.liveTensors()).toBe(2);
    expect(binding.tensorCount()).toBe(2);
    await b.dispose();
    expect(binding.tensorCount()).toBe(0);
    for (const call of [() => b.attention(req), () => b.empty([1]), () => b.profile(req)])
      await expect(call()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', field: 'backend' });
  });
});
