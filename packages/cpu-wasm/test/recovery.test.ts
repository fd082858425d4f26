import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertMatchesReference, makeRequest, rejection } from '@sparse/conformance/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

const req = makeRequest({ Hq: 4, Hkv: 2, Sq: 70, D: 16 }, { kind: 'local', left: 9, right: 3 });

describe.each([
  ['2 threads', { threads: 2 }],
  ['inline', { inline: true }],
])('a wasm trap (%s)', (_label, options) => {
  const backend = cpuWasm(options);
  afterAll(() => backend.dispose());

  it('becomes a SparseAttentionError, and the next call works', async () => {
    assertMatchesReference(req, await backend.attention(req));
    backend.injectFault('trap');
    const e = await rejection(backend.attention(req));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toMatch(/wasm trap/);
    assertMatchesReference(req, await backend.attention(req));
    assertMatchesReference(req, await backend.attention(req));
  });
});

describe('a dead worker', () => {
  const backend = cpuWasm({ threads: 2 });
  afterAll(() => backend.dispose());

  it('fails the call with DEVICE_LOST; the pool restarts it and the next call works', async () => {
    assertMatchesReference(req, await backend.attention(req));
    backend.injectFault('kill-worker');
    const e = await rejection(backend.attention(req));
    expect(e.code).toBe('DEVICE_LOST');
    expect(e.message).toMatch(/worker/);
    assertMatchesReference(req, await backend.attention(req));
    expect(backend.lastRun()).toMatchObject({ mode: 'workers', threads: 2 });
    expect(await backend.probe()).toMatchObject({ available: true });
  });
});

describe('process exit', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = (dispose: boolean) => `
    import { cpuWasm } from ${JSON.stringify(dist)};
    const be = cpuWasm({ threads: 2 });
    const x = { data: new Float32Array(64 * 8).fill(0.5), shape: [1, 1, 64, 8] };
    const r = await be.attention({ q: x, k: x, v: x, pattern: { kind: 'causal' } });
    if (Math.abs(r.out.data[0] - 0.5) > 1e-6) process.exit(3);
    ${dispose ? 'await be.dispose();' : ''}
    console.log('done');
  `;
  const run = (dispose: boolean) => spawnSync(process.execPath, ['--input-type=module', '-e', script(dispose)], { encoding: 'utf8', timeout: 30_000 });

  it('dispose() ends the workers so Node exits', () => {
    const r = run(true);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done');
    expect(r.status).toBe(0);
  });

  it('idle workers do not keep Node alive even without dispose()', () => {
    const r = run(false);
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe('done');
    expect(r.status).toBe(0);
  });
});
