// The addon itself, called directly (no JS validation in front of it): every size and offset must be
// re-checked natively and rejected with a clear, coded error, and valid arguments must get through to the
// device layer (which here reports that there is no CUDA device).

import { makeRequest } from '@sparse/conformance/testing';
import { BlockMaskCache } from '@sparse/core';
import { planAttention } from '@sparse/core/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostNativeArgs, NativeArgs, NativeBinding } from '../src/binding.js';
import { expectedKernel } from '../src/check.js';
import { PRECISIONS } from '../src/options.js';
import { packRequest } from '../src/pack.js';
import { loadAddon, skipReason } from './addon.js';
import { CASES } from './cases.js';

function validArgs(binding: NativeBinding, precision = 0): HostNativeArgs {
  const req = makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 70, Sk: 70, D: 16, Dv: 16 }, { kind: 'local', left: 9, right: 9 });
  const plan = planAttention(req);
  const kernel = binding.plan(precision, plan.headDim, plan.headDimV, false);
  return packRequest(req, plan, kernel, new BlockMaskCache(4), { precision, device: 0 });
}

function rejects(binding: NativeBinding, args: unknown, code: string, message: RegExp) {
  let thrown: unknown;
  try {
    binding.attention(args as NativeArgs);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'the native call must throw synchronously').toBeInstanceOf(Error);
  const e = thrown as Error & { code?: string; field?: string };
  expect(e.name).toBe('SparseAttentionError');
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}

describe.skipIf(skipReason !== null)(`native binding${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let binding: NativeBinding;
  beforeAll(() => {
    binding = loadAddon();
  });

  it('reports its build', () => {
    const info = binding.buildInfo();
    expect(info.archs).toBe('80,86,89,90');
    expect(info.cudaRuntime).toBeGreaterThanOrEqual(12000);
    expect(info.maxHeadDim).toBe(256);
  });

  it('plans kernels and tiles per precision and head dims', () => {
    expect(binding.plan(0, 128, 128, false)).toMatchObject({ kernel: 0, blockQ: 32, blockK: 32 });
    expect(binding.plan(1, 64, 64, false)).toMatchObject({ kernel: 1, blockQ: 64, blockK: 64 });
    expect(binding.plan(2, 100, 128, false)).toMatchObject({ kernel: 2, blockQ: 64, blockK: 64 });
    expect(binding.plan(1, 256, 40, false)).toMatchObject({ kernel: 3, blockQ: 64, blockK: 32 });
    expect(binding.plan(1, 128, 128, true)).toMatchObject({ kernel: 0, blockQ: 32, blockK: 32 });
    expect(() => binding.plan(1, 257, 64, false)).toThrow(/256/);
  });

  it('plans what expectedKernel() says before the addon is loaded (the tiles check of supports())', () => {
    const dims = [1, 17, 64, 65, 128, 129, 200, 256];
    for (const precision of PRECISIONS)
      for (const D of dims)
        for (const Dv of dims)
          for (const topk of [false, true])
            expect(binding.plan(PRECISIONS.indexOf(precision), D, Dv, topk), `${precision} D=${D} Dv=${Dv} topk=${topk}`).toMatchObject(
              expectedKernel(precision, D, Dv, topk),
            );
  });

  it('probes without a GPU: no CUDA device (the static runtime loads without a driver)', async () => {
    const p = await binding.probe(0);
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/no CUDA device/);
    expect(p.runtimeVersion).toBeGreaterThanOrEqual(12000);
  });

  it('accepts valid packed arguments for every test case and precision, then fails only at the device', async () => {
    for (const c of CASES) {
      const req = c.make();
      const plan = planAttention(req);
      for (const precision of [0, 1, 2]) {
        const kernel = binding.plan(
          precision,
          plan.headDim,
          plan.headDimV,
          plan.patterns.some((p) => p.kind === 'topk'),
        );
        const args = packRequest(req, plan, kernel, new BlockMaskCache(4), { precision, device: 0 });
        await expect(binding.attention(args), `${c.id} precision ${precision}`).rejects.toMatchObject({
          name: 'SparseAttentionError',
          code: 'BACKEND_UNAVAILABLE',
          message: expect.stringMatching(/no CUDA device|driver/),
        });
      }
    }
  });

  it('rejects buffers whose byte length does not match the dims', () => {
    const a = validArgs(binding);
    rejects(binding, { ...a, q: new Float32Array(a.q.length - 1) }, 'INVALID_SHAPE', /^q: byteLength must be B\*Hq\*Sq\*D\*4 = 8960 bytes.*got 8956/);
    rejects(binding, { ...a, k: new Float32Array(a.k.length + 16) }, 'INVALID_SHAPE', /^k: byteLength/);
    rejects(binding, { ...a, v: a.v.subarray(1) }, 'INVALID_SHAPE', /^v: byteLength/);
    rejects(binding, { ...a, out: new Float32Array(3) }, 'INVALID_SHAPE', /^out: byteLength/);
    rejects(binding, { ...a, lse: new Float32Array(1) }, 'INVALID_SHAPE', /^lse: byteLength/);
    rejects(binding, { ...a, dims: Int32Array.from([1, 2, 1, 70, 70, 16, 17]) }, 'INVALID_SHAPE', /^v: byteLength/);
  });

  it('rejects wrong types, dims and options', () => {
    const a = validArgs(binding);
    rejects(binding, null, 'INVALID_ARGUMENT', /args must be an object/);
    rejects(binding, { ...a, q: Array.from(a.q) }, 'INVALID_ARGUMENT', /^q: must be a Float32Array/);
    rejects(binding, { ...a, q: new Float64Array(a.q.length) }, 'INVALID_ARGUMENT', /^q: must be a Float32Array/);
    rejects(binding, { ...a, dims: [1, 2, 1, 70, 70, 16, 16] }, 'INVALID_ARGUMENT', /^dims: must be a Int32Array/);
    rejects(binding, { ...a, dims: Int32Array.from([1, 2, 1, 70, 70, 16]) }, 'INVALID_ARGUMENT', /^dims: must hold 7 sizes/);
    rejects(binding, { ...a, dims: Int32Array.from([1, 2, 0, 70, 70, 16, 16]) }, 'INVALID_SHAPE', /Hkv.*positive/);
    rejects(binding, { ...a, dims: Int32Array.from([1, 3, 2, 70, 70, 16, 16]) }, 'INVALID_SHAPE', /must divide Hq/);
    rejects(binding, { ...a, dims: Int32Array.from([1, 2, 1, 70, 70, 300, 16]) }, 'UNSUPPORTED', /above 256/);
    rejects(binding, { ...a, layout: 'bsdh' }, 'INVALID_ARGUMENT', /^layout/);
    rejects(binding, { ...a, scale: Number.NaN }, 'INVALID_ARGUMENT', /^scale/);
    rejects(binding, { ...a, precision: 3 }, 'INVALID_ARGUMENT', /^precision/);
    rejects(binding, { ...a, device: -1 }, 'INVALID_ARGUMENT', /^device/);
  });

  it('rejects masks, tiles and head descriptors that point outside their buffers', () => {
    const a = validArgs(binding);
    rejects(binding, { ...a, blockQ: 64 }, 'INVALID_ARGUMENT', /tiles 32x32/);
    rejects(binding, { ...a, kernel: 2 }, 'INVALID_ARGUMENT', /^kernel/);
    rejects(binding, { ...a, rowPtr: a.rowPtr.subarray(0, 2) }, 'INVALID_ARGUMENT', /rowPtrOffset/);
    const badCol = Int32Array.from(a.colIdx);
    badCol[1] = 99;
    rejects(binding, { ...a, colIdx: badCol }, 'INVALID_ARGUMENT', /colIdx\[1\].*key block in \[0, 3\).*got 99/);
    const badRow = Int32Array.from(a.rowPtr);
    badRow[2] = 0;
    rejects(binding, { ...a, rowPtr: badRow }, 'INVALID_ARGUMENT', /non-decreasing/);
    const pastEnd = Int32Array.from(a.rowPtr);
    pastEnd[pastEnd.length - 1] = 1000;
    rejects(binding, { ...a, rowPtr: pastEnd }, 'INVALID_ARGUMENT', /points past colIdx/);
    rejects(binding, { ...a, partialIdx: a.partialIdx.subarray(1) }, 'INVALID_SHAPE', /partialIdx: length must equal colIdx/);
    rejects(binding, { ...a, bits: new Uint32Array(0) }, 'INVALID_ARGUMENT', /partialIdx\[\d+\].*bit tile/);
    rejects(binding, { ...a, heads: a.heads.subarray(8) }, 'INVALID_SHAPE', /^heads: length must be Hq\*8 = 16/);
    const badHead = Int32Array.from(a.heads);
    badHead[8 + 3] = 7;
    rejects(binding, { ...a, heads: badHead }, 'INVALID_ARGUMENT', /heads\[1\]\.mode/);
    const cluster = Int32Array.from(a.heads);
    cluster[3] = 2;
    cluster[4] = 3;
    rejects(binding, { ...a, heads: cluster }, 'INVALID_ARGUMENT', /heads\[0\]\.centroidOffset/);
    const topk = Int32Array.from(a.heads);
    topk[3] = 1;
    topk[4] = 0;
    rejects(binding, { ...a, heads: topk }, 'INVALID_ARGUMENT', /heads\[0\]\.k/);
  });

  it('refuses top-k heads on the tensor-core kernel', () => {
    const a = validArgs(binding, 1);
    const topk = Int32Array.from(a.heads);
    topk[3] = 1;
    topk[4] = 2;
    rejects(binding, { ...a, heads: topk }, 'INVALID_ARGUMENT', /CUDA-core kernel/);
  });

  it('keeps several calls in flight, each settling on its own', async () => {
    const a = validArgs(binding);
    const calls = Array.from({ length: 6 }, () => binding.attention({ ...a, out: new Float32Array(a.out.length) }));
    const settled = await Promise.allSettled(calls);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as { code: string }).code === 'BACKEND_UNAVAILABLE')).toBe(true);
  });

  it('re-checks resident tensor ids and arguments before touching the GPU', async () => {
    expect(binding.tensorCount()).toBe(0);
    const sync = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as { code: string; field: string; message: string };
      }
      throw new Error('expected a synchronous throw');
    };
    expect(sync(() => binding.tensorAllocate(0, 3, 10))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dtype' });
    expect(sync(() => binding.tensorAllocate(0, 0, 0))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'elements' });
    expect(sync(() => binding.tensorAllocate(0, 0, 1.5))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'elements' });
    expect(sync(() => binding.tensorAllocate(-1, 0, 4))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'device' });
    expect(sync(() => binding.tensorWrite(12, new Float32Array(4), 0))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'tensor',
      message: 'tensor: device tensor 12 is unknown or was disposed',
    });
    expect(sync(() => binding.tensorRead(12, 0, new Float32Array(4)))).toMatchObject({ field: 'tensor' });
    expect(sync(() => binding.tensorCast(12, 13))).toMatchObject({ field: 'source' });
    expect(sync(() => binding.tensorRead(-3, 0, new Float32Array(4)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tensor' });
    await expect(binding.tensorRelease(12)).resolves.toBe(false);
    // A valid allocation reaches the device layer, which has no GPU here.
    await expect(binding.tensorAllocate(0, 1, 16)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/no CUDA device/) });
    expect(binding.tensorCount()).toBe(0);
  });

  it('rejects operands that are not Float32Arrays or live device tensor ids', () => {
    const a = validArgs(binding);
    rejects(binding, { ...a, q: 77 }, 'INVALID_ARGUMENT', /^q: device tensor 77 is unknown or was disposed$/);
    rejects(binding, { ...a, v: 0 }, 'INVALID_ARGUMENT', /^v: a device tensor id must be a positive integer/);
    rejects(binding, { ...a, out: 2.5 }, 'INVALID_ARGUMENT', /^out: a device tensor id must be a positive integer/);
    rejects(binding, { ...a, lse: 91 }, 'INVALID_ARGUMENT', /^lse: device tensor 91 is unknown/);
    rejects(binding, { ...a, k: new Float64Array(a.k.length) }, 'INVALID_ARGUMENT', /^k: must be a Float32Array or a device tensor id/);
  });
});
