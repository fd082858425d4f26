import { isSparseAttentionError, reference } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { cudaNative, PRECISIONS, TOLERANCES } from '../src/index.js';
import { skipReason } from './addon.js';
import { makeRequest } from './cases.js';

const req = () => makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 20, Sk: 20, D: 8, Dv: 8 }, { kind: 'causal' });

describe('cudaNative()', () => {
  it('is a Backend named cuda-native with its precision', async () => {
    const b = cudaNative({ precision: 'bfloat16' });
    expect(b.name).toBe('cuda-native');
    expect(b.precision).toBe('bfloat16');
    expect(cudaNative().precision).toBe('float32');
    expect(PRECISIONS).toEqual(['float32', 'bfloat16', 'float16']);
    expect(TOLERANCES.float32).toEqual({ atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
    await b.dispose();
  });

  it('validates its options', () => {
    expect(() => cudaNative({ precision: 'fp8' as never })).toThrow(/precision: must be one of float32, bfloat16, float16/);
    expect(() => cudaNative({ device: -1 })).toThrow(/device/);
  });

  it('supports() validates with core and states its head-dim limit', () => {
    const b = cudaNative();
    expect(b.supports(req())).toBe(true);
    expect(b.supports(makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 4, Sk: 4, D: 300, Dv: 8 }, { kind: 'dense' }))).toMatch(/D = 300 is above the supported 256/);
    const bad = { ...req(), pattern: { kind: 'local', left: -1 } } as never;
    expect(b.supports(bad)).toMatch(/left/);
  });

  it('attention() validates the request with core first', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const bad = { ...req(), k: { data: new Float32Array(3), shape: [1, 1, 3, 1] } };
    await expect(b.attention(bad)).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
  });

  it('reports a missing binary in probe() and as BACKEND_UNAVAILABLE', async () => {
    const b = cudaNative({ binaryPath: '/nowhere/sparse_cuda.node' });
    const p = await b.probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/does not exist/);
    const e = await b.attention(req()).catch((x: unknown) => x);
    expect(isSparseAttentionError(e) && e.code).toBe('BACKEND_UNAVAILABLE');
  });

  it('honours an already-aborted signal', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(cudaNative().attention(req(), { signal: ctl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it.skipIf(skipReason !== null)('probes "no CUDA device" here through the child-process check', async () => {
    const b = cudaNative();
    const p = await b.probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/no CUDA device/);
    const info = await b.info();
    expect(info?.source).toBe('the local build');
    const e = await b.attention(req()).catch((x: unknown) => x);
    expect(isSparseAttentionError(e) && e.code).toBe('BACKEND_UNAVAILABLE');
    expect((e as Error).message).toMatch(/no CUDA device/);
    await b.dispose();
    expect((await b.probe()).reason).toMatch(/disposed/);
  });

  it('a reference backend still answers the same request (selection falls through)', async () => {
    const r = await reference().attention(req());
    expect(r.out.data.length).toBe(2 * 20 * 8);
  });
});
