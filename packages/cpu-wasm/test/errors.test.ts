import { assertMatchesReference, makeRequest, rejection } from '@sparse/conformance/testing';
import { isSparseAttentionError, type SparseAttentionError } from '@sparse/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

describe('options', () => {
  it.each([
    [{ threads: 0 }, 'threads'],
    [{ threads: 1.5 }, 'threads'],
    [{ tiles: { blockQ: 6 } }, 'tiles.blockQ'],
    [{ tiles: { blockK: 12 } }, 'tiles.blockK'],
    [{ tiles: { blockK: 4 } }, 'tiles.blockK'],
    [{ tiles: { blockQ: 1024 } }, 'tiles.blockQ'],
    [{ blockQ: 32 }, 'blockQ'],
    [{ inline: 'yes' }, 'inline'],
    [{ splitBytes: 0 }, 'splitBytes'],
    [{ maskCacheSize: -1 }, 'maskCacheSize'],
    [{ threds: 2 }, 'threds'],
  ])('%j is refused naming %s', (options, field) => {
    let err: unknown;
    try {
      cpuWasm(options as never);
    } catch (e) {
      err = e;
    }
    expect(isSparseAttentionError(err)).toBe(true);
    expect((err as SparseAttentionError).code).toBe('INVALID_ARGUMENT');
    expect((err as SparseAttentionError).field).toBe(field);
  });
});

describe('requests', () => {
  const backend = cpuWasm({ threads: 2 });
  afterAll(() => backend.dispose());

  it('validates through core before running', async () => {
    const req = makeRequest({ Sq: 8, D: 4 }, { kind: 'causal' });
    const bad = { ...req, k: { data: new Float32Array(3), shape: [1, 1, 8, 4] } };
    expect(typeof backend.supports(bad)).toBe('string');
    const e = await rejection(backend.attention(bad));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toMatch(/k\.data/);
  });

  it('refuses a request beyond the 4 GiB wasm address space with RESOURCE_LIMIT before allocating', async () => {
    // out = 4096 heads × 256 rows × 1024 values × 4 bytes = 4 GiB on its own; the inputs are ~5 MB.
    const big = {
      q: { data: new Float32Array(4096 * 256), shape: [1, 4096, 256, 1] },
      k: { data: new Float32Array(256), shape: [1, 1, 256, 1] },
      v: { data: new Float32Array(256 * 1024), shape: [1, 1, 256, 1024] },
      pattern: { kind: 'dense' as const },
    };
    const small = makeRequest({ Sq: 8, D: 4 }, { kind: 'causal' });
    await backend.attention(small);
    const before = backend.lastRun()!.memoryBytes;
    const e = await rejection(backend.attention(big));
    expect(e.code).toBe('RESOURCE_LIMIT');
    expect(e.message).toMatch(/needs \d{10,} bytes/);
    expect(backend.supports(big)).toBe(e.message);
    // The memory did not grow for it (the same small call finds it as it was).
    await backend.attention(small);
    expect(backend.lastRun()!.memoryBytes).toBe(before);
    // The backend is still fine afterwards.
    const req = makeRequest({ Hq: 2, Sq: 20, D: 8 }, { kind: 'causal' });
    assertMatchesReference(req, await backend.attention(req));
  });
});

describe('supports() and attention() share one resource estimate', () => {
  const backend = cpuWasm({ threads: 2 });
  afterAll(() => backend.dispose());
  // Zero-filled arrays that nothing writes: the pages are never touched, refusals come before any copy.
  const zeros = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });

  it('a call whose tensors fit 4 GiB but whose working memory does not: the same sentence from both', async () => {
    // q, k, v, out and the transposed keys are 20 · S · D bytes, just under 4 GiB; the per-row state tips it over.
    const S = 3_350_000;
    const big = { q: zeros([1, 1, S, 64]), k: zeros([1, 1, S, 64]), v: zeros([1, 1, S, 64]), pattern: { kind: 'local' as const, left: 0, right: 0 } };
    const e = await rejection(backend.attention(big));
    expect(e.code).toBe('RESOURCE_LIMIT');
    expect(backend.supports(big)).toBe(e.message);
  });

  it('a call over 4 GiB that runs as kv-head groups which each fit is accepted', () => {
    // out alone is 16 heads × 2^20 rows × 64 × 4 bytes = 4 GiB; each kv head's sub-call needs about 280 MB.
    const rows = 2 ** 20;
    const req = { q: zeros([1, 16, rows, 1]), k: zeros([1, 16, 1, 1]), v: zeros([1, 16, 1, 64]), pattern: { kind: 'dense' as const } };
    expect(backend.supports(req)).toBe(true);
  });
});

describe.each([
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
])('abort (%s)', (_label, options) => {
  const backend = cpuWasm(options);
  afterAll(() => backend.dispose());
  // ~17 GFLOP of dense attention: long enough for an abort to land mid-call even on a fast machine.
  const long = makeRequest({ Hq: 4, Sq: 4096, D: 64 }, { kind: 'dense' }, { returnLse: false });

  it('an already aborted signal rejects with ABORTED naming the signal', async () => {
    const e = await rejection(backend.attention(long, { signal: AbortSignal.abort() }));
    expect(e).toMatchObject({ code: 'ABORTED', field: 'signal' });
    expect(e.message).toMatch(/^signal: /);
  });

  it('an abort during the call rejects with ABORTED, and the next call works', async () => {
    await backend.attention(makeRequest({ Sq: 16, D: 8 }, { kind: 'causal' })); // start the runtime first
    const ctl = new AbortController();
    const started = performance.now();
    const pending = backend.attention(long, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    const e = await rejection(pending);
    expect(e).toMatchObject({ code: 'ABORTED', field: 'signal' });
    expect(e.message).toMatch(/^signal: /);
    expect(performance.now() - started).toBeLessThan(10_000);
    const req = makeRequest({ Hq: 2, Sq: 30, D: 8 }, { kind: 'local', left: 4, right: 4 });
    assertMatchesReference(req, await backend.attention(req));
  });
});
