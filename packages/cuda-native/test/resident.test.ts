// The resident entry point on this machine (no GPU): everything JS checks before the GPU — tensor ownership,
// dtype, shapes, aliasing, disposal, call ordering — and, with the addon built, that what passes them waits for
// the device (the probe says there is none). Tensors here are made with the (internal) constructor and ids the
// addon never issued; the addon's own re-check of such ids is tested on the binding (test/native.test.ts). On a
// GPU the same API is checked end to end by test/resident-device.test.ts.

import { makeRequest } from '@sparse/conformance/testing';
import { isSparseAttentionError } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { type CudaNativeBackend, CudaTensor, cudaNative, isCudaTensor } from '../src/index.js';
import { sequenced } from '../src/tensor.js';
import { skipReason } from './addon.js';

const dims = { B: 1, Hq: 2, Hkv: 1, Sq: 20, Sk: 20, D: 8, Dv: 8 };
const hostReq = () => makeRequest(dims, { kind: 'local', left: 3, right: 3 });
const noRelease = async () => undefined;
const fake = (b: object, id: number, shape: number[], dtype: 'float32' | 'bfloat16' | 'float16' = 'float32') =>
  new CudaTensor(b, id, shape, dtype, 0, noRelease);

function residentReq(b: CudaNativeBackend) {
  return {
    q: fake(b, 4001, [1, 2, 20, 8]),
    k: fake(b, 4002, [1, 1, 20, 8]),
    v: fake(b, 4003, [1, 1, 20, 8]),
    pattern: { kind: 'local', left: 3, right: 3 } as const,
  };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(isSparseAttentionError(e), `expected a SparseAttentionError, got ${String(e)}`).toBe(true);
  return e as { code: string; field?: string; message: string };
}

describe('resident entry point: checks before the GPU', () => {
  it('upload / empty without an addon are BACKEND_UNAVAILABLE; their arguments are checked first', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    expect((await codeOf(b.upload(hostReq().q))).code).toBe('BACKEND_UNAVAILABLE');
    expect((await codeOf(b.empty([2, 3]))).code).toBe('BACKEND_UNAVAILABLE');
    expect(await codeOf(b.empty([2, 0]))).toMatchObject({ code: 'INVALID_SHAPE', field: 'shape' });
    expect(await codeOf(b.empty([2, 3], { dtype: 'int8' as never }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dtype' });
    expect(await codeOf(b.upload({ data: new Float32Array(5), shape: [2, 3] }))).toMatchObject({ code: 'INVALID_SHAPE', field: 'tensor.data' });
    expect(await codeOf(b.upload({ data: [1, 2] as never, shape: [2] }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tensor' });
    expect(b.liveTensors()).toBe(0);
  });

  it('attentionResident validates with core first, then needs the addon', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const bad = { ...hostReq(), k: { data: new Float32Array(3), shape: [1, 1, 3, 1] } };
    expect((await codeOf(b.attentionResident(bad))).code).toBe('INVALID_SHAPE');
    const pattern = await codeOf(b.attentionResident({ ...hostReq(), pattern: { kind: 'local', left: -2 } as never }));
    expect(pattern.code).toBe('INVALID_PATTERN');
    expect((await codeOf(b.attentionResident(hostReq()))).code).toBe('BACKEND_UNAVAILABLE');
    expect((await codeOf(b.attentionResident(null as never))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses tensors of another backend, of the wrong dtype, disposed, or not tensors at all', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const other = cudaNative();
    const r = residentReq(b);
    expect(isCudaTensor(r.q)).toBe(true);
    expect(await codeOf(b.attentionResident({ ...r, q: fake(other, 1, [1, 2, 20, 8]) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'q',
      message: expect.stringMatching(/another cuda-native backend/),
    });
    expect(await codeOf(b.attentionResident({ ...r, k: fake(b, 9, [1, 1, 20, 8], 'bfloat16') }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'k',
      message: expect.stringMatching(/bfloat16 values, this backend's storage precision is float32 \(convert it with cast\(\)\)/),
    });
    expect(await codeOf(b.attentionResident({ ...r, v: { id: 4003 } as never }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'v' });
    const gone = fake(b, 77, [1, 2, 20, 8]);
    await gone.dispose();
    expect(gone.disposed).toBe(true);
    await gone.dispose(); // a second dispose is a no-op
    expect(await codeOf(b.attentionResident({ ...r, q: gone }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'q',
      message: expect.stringMatching(/disposed/),
    });
    expect(await codeOf(b.download(gone))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tensor' });
    expect(await codeOf(b.cast(r.q, 'fp8' as never))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dtype' });
    expect(String(gone)).toBe('CudaTensor(float32[1, 2, 20, 8] on cuda:0, disposed)');
  });

  it('checks the given out and lse: float32, the right shape, not an input', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const r = residentReq(b);
    expect(await codeOf(b.attentionResident({ ...r, out: fake(b, 5, [1, 2, 20, 4]) }))).toMatchObject({
      code: 'INVALID_SHAPE',
      field: 'out.shape',
      message: 'out.shape: must be [1, 2, 20, 8] (got [1, 2, 20, 4])',
    });
    expect(await codeOf(b.attentionResident({ ...r, out: fake(b, 5, [1, 2, 20, 8], 'float16') }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'out' });
    expect(await codeOf(b.attentionResident({ ...r, out: r.q }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'out' });
    expect(await codeOf(b.attentionResident({ ...r, lse: fake(b, 6, [1, 2, 21]) }))).toMatchObject({ code: 'INVALID_SHAPE', field: 'lse.shape' });
  });

  it('an aborted signal is honoured before anything runs', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const ctl = new AbortController();
    ctl.abort();
    expect((await codeOf(b.attentionResident(residentReq(b), { signal: ctl.signal }))).code).toBe('ABORTED');
  });

  it('operations on a tensor run in call order, even when an earlier one is slower', async () => {
    const t = fake({}, 1, [4]);
    const u = fake({}, 2, [4]);
    const log: string[] = [];
    const slow = sequenced([t], () => new Promise<void>((done) => setTimeout(() => done(log.push('write t') as never), 30)));
    const failing = sequenced([t, u], async () => {
      log.push('read t, write u');
      throw new Error('boom');
    });
    const last = sequenced([u], async () => log.push('read u'));
    const other = sequenced([fake({}, 3, [1])], async () => log.push('independent'));
    await Promise.allSettled([slow, failing, last, other]);
    expect(log).toEqual(['independent', 'write t', 'read t, write u', 'read u']);
    await expect(failing).rejects.toThrow('boom');
  });

  it.skipIf(skipReason !== null)('with the addon built and no CUDA device, what passes the JS checks stops at the device probe', async () => {
    // Nothing reaches the addon before the device started (probe); its own re-check of tensor ids, dtypes and
    // sizes is tested against the binding directly (test/native.test.ts).
    const b = cudaNative();
    const r = residentReq(b);
    const out = fake(b, 4004, [1, 2, 20, 8]);
    const unavailable = { code: 'BACKEND_UNAVAILABLE', field: 'backend', message: expect.stringMatching(/no CUDA device/) };
    expect(await codeOf(b.attentionResident({ ...r, out }))).toMatchObject(unavailable);
    expect(await codeOf(b.attentionResident({ ...r, q: hostReq().q, out }))).toMatchObject(unavailable);
    expect(await codeOf(b.download(out))).toMatchObject(unavailable);
    expect(await codeOf(b.cast(out, 'bfloat16'))).toMatchObject(unavailable);
    expect(await codeOf(b.upload(hostReq().q))).toMatchObject(unavailable);
    expect(b.liveTensors()).toBe(0);
    await b.dispose();
  });
});
