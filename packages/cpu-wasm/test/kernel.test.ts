import { readFileSync } from 'node:fs';
import { makeRequest } from '@sparse/conformance/testing';
import { isSparseAttentionError } from '@sparse/core';
import { describe, expect, it } from 'vitest';
import { cpuWasm, measureSimdPeak } from '../dist/index.js';
import { engineHasRelaxedSimd } from '../dist/instance.js';

// The choice between the two kernel builds, on whatever engine runs this project: without relaxed SIMD (Node 20's
// default, the `simd128` project) and with it (the `relaxed` project, or Node 20 with the flag / later Node).
const relaxed = engineHasRelaxedSimd();
const wasm = (f: string) => readFileSync(new URL(`../dist/${f}`, import.meta.url));
const req = makeRequest({ Hq: 2, Sq: 64, D: 16 }, { kind: 'local', left: 8, right: 8 });

describe(`kernel choice (this engine ${relaxed ? 'runs' : 'lacks'} relaxed SIMD)`, () => {
  it('detects relaxed SIMD exactly when the engine validates the relaxed build', () => {
    expect(WebAssembly.validate(wasm('relaxed/kernel.wasm'))).toBe(relaxed);
    expect(WebAssembly.validate(wasm('relaxed/kernel-st.wasm'))).toBe(relaxed);
    expect(WebAssembly.validate(wasm('kernel.wasm'))).toBe(true);
    expect(WebAssembly.validate(wasm('kernel-st.wasm'))).toBe(true);
  });

  it.each([
    ['workers', { threads: 2 }],
    ['inline', { inline: true }],
  ] as const)("'auto' (the default) takes the relaxed build where the engine runs relaxed SIMD, and says which (%s)", async (_label, options) => {
    const backend = cpuWasm(options);
    try {
      const probe = await backend.probe();
      expect(probe.available, probe.reason).toBe(true);
      await backend.attention(req);
      const info = backend.lastRun()!;
      if (relaxed) {
        expect(probe.device).toMatch(/^WebAssembly relaxed SIMD \(AssemblyScript\), /);
        expect(info.kernel).toBe('relaxed');
        expect(info.kernelReason).toBeUndefined();
      } else {
        expect(probe.device).toMatch(/^WebAssembly SIMD128 \(AssemblyScript; this engine has no relaxed SIMD/);
        expect(info.kernel).toBe('simd128');
        expect(info.kernelReason).toMatch(/no relaxed SIMD.*--experimental-wasm-relaxed-simd/);
      }
    } finally {
      await backend.dispose();
    }
  });

  it("a forced 'relaxed' runs the relaxed build, or is BACKEND_UNAVAILABLE saying why", async () => {
    const backend = cpuWasm({ threads: 2, kernel: 'relaxed' });
    try {
      const probe = await backend.probe();
      if (relaxed) {
        expect(probe.available, probe.reason).toBe(true);
        expect(probe.device).toMatch(/relaxed SIMD.*2 worker threads/);
        await backend.attention(req);
        expect(backend.lastRun()).toMatchObject({ kernel: 'relaxed', mode: 'workers' });
      } else {
        expect(probe).toMatchObject({ available: false });
        expect(probe.reason).toMatch(/kernel: 'relaxed' was requested, but this engine has no relaxed SIMD/);
        const e = await backend.attention(req).then(
          () => null,
          (err: unknown) => err,
        );
        expect(isSparseAttentionError(e) && e.code, String(e)).toBe('BACKEND_UNAVAILABLE');
      }
    } finally {
      await backend.dispose();
    }
  });

  it("a forced 'simd128' runs the SIMD128 build on every engine", async () => {
    const backend = cpuWasm({ inline: true, kernel: 'simd128' });
    try {
      expect((await backend.probe()).device).toMatch(/^WebAssembly SIMD128 \(AssemblyScript; kernel: 'simd128' was requested\)/);
      await backend.attention(req);
      expect(backend.lastRun()).toMatchObject({ kernel: 'simd128', kernelReason: "kernel: 'simd128' was requested" });
    } finally {
      await backend.dispose();
    }
  });

  it('rejects any other value at construction', () => {
    for (const kernel of ['fma', 'SIMD128', true, 1]) {
      expect(() => cpuWasm({ kernel: kernel as never })).toThrow(/^kernel: must be one of 'auto', 'relaxed', 'simd128'/);
    }
  });

  it('measureSimdPeak measures the build it is asked for', async () => {
    const simd = await measureSimdPeak({ kernel: 'simd128', durationMs: 40, repeats: 2 });
    expect(simd).toMatchObject({ kernel: 'simd128', flopsPerIteration: 96 });
    expect(simd.gflops).toBeGreaterThan(0.1);
    expect((await measureSimdPeak({ durationMs: 40, repeats: 2 })).kernel).toBe(relaxed ? 'relaxed' : 'simd128');
    if (relaxed) expect((await measureSimdPeak({ kernel: 'relaxed', durationMs: 40, repeats: 2 })).gflops).toBeGreaterThan(0.1);
    else await expect(measureSimdPeak({ kernel: 'relaxed' })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
