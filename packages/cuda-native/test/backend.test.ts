import { makeRequest } from '@sparse/conformance/testing';
import { FLOAT32_TOLERANCE, isSparseAttentionError, reference } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { cudaNative, PRECISIONS, TOLERANCES, toleranceFor } from '../src/index.js';
import { skipReason } from './addon.js';

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

  it('validates every option at construction, each bad one INVALID_ARGUMENT naming the field', () => {
    const field = (options: unknown) => {
      try {
        cudaNative(options as never);
      } catch (e) {
        expect(isSparseAttentionError(e) && e.code).toBe('INVALID_ARGUMENT');
        return (e as { field: string }).field;
      }
      return null;
    };
    expect(field({ precision: 'fp8' })).toBe('precision');
    expect(field({ device: 1.5 })).toBe('device');
    expect(field({ binaryPath: 7 })).toBe('binaryPath');
    expect(field({ isolateLoad: 'no' })).toBe('isolateLoad');
    expect(field({ maskCacheSize: -1 })).toBe('maskCacheSize');
    expect(field({ partitionDilation: 1 })).toBe('partitionDilation');
    expect(field({ tiles: { blockQ: 16 } })).toBe('tiles.blockQ');
    expect(field({ tiles: { blockK: 128 } })).toBe('tiles.blockK');
    expect(field({ tiles: { blockZ: 32 } })).toBe('tiles.blockZ');
    expect(field({ blockQ: 64 })).toBe('blockQ');
    expect(field({ threads: 2 })).toBe('threads');
    expect(field('bf16')).toBe('options');
    expect(field({ precision: 'bfloat16', device: 1, binaryPath: '/x.node', isolateLoad: false, maskCacheSize: 0, partitionDilation: false })).toBeNull();
    expect(field({ tiles: { blockQ: 64, blockK: 32 } })).toBeNull();
  });

  it('tolerance() and lastRun() answer without the addon', () => {
    const b = cudaNative({ precision: 'bfloat16', binaryPath: '/nowhere/sparse_cuda.node' });
    expect(b.tolerance()).toEqual(TOLERANCES.bfloat16);
    expect(b.tolerance(req())).toEqual(toleranceFor('bfloat16', req()));
    expect(TOLERANCES.bfloat16.atol).toBeGreaterThan(3e-2);
    expect(cudaNative().tolerance()).toEqual(FLOAT32_TOLERANCE);
    expect(b.lastRun()).toBeNull();
  });

  it('supports() refuses tiles the kernel a call runs on is not compiled for, before the addon is loaded', () => {
    const b = cudaNative({ precision: 'float16', tiles: { blockQ: 64, blockK: 64 }, binaryPath: '/nowhere/sparse_cuda.node' });
    expect(b.supports(req())).toBe(true);
    const wide = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 4, Sk: 4, D: 256, Dv: 8 }, { kind: 'dense' });
    expect(b.supports(wide)).toMatch(/tiles \{ blockQ: 64, blockK: 64 \} were requested, but this call runs on the mma256 kernel/);
    const topk = makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 4, Sk: 4, D: 8, Dv: 8 }, { kind: 'topk', k: 2 });
    expect(b.supports(topk)).toMatch(/simt kernel \(a top-k head\), compiled for tiles 32 × 32/);
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
    expect(p.reason).toMatch(/\(addon: the local build, /);
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
