import { defineConfig } from 'vitest/config';
import { engineHasRelaxedSimd } from './src/instance.ts';

// The tests run the built package (dist/: worker script and .wasm kernels), so `pnpm build` comes first.
//
// Two projects, one per build of the kernel. `simd128` runs every suite; the suites that check results (conformance,
// correctness, non-finite values) force the project's build through test/kernel.ts, the others take `kernel: 'auto'`.
// `relaxed` runs those result suites again with the relaxed-SIMD build forced, in Node processes started with
// --experimental-wasm-relaxed-simd where the engine needs the flag (Node 20; V8 flags hold for the whole process, so
// the worker threads get relaxed SIMD too). test/kernel.test.ts runs in both: the choice on an engine with and without.
const RESULT_SUITES = ['test/conformance.test.ts', 'test/correctness.test.ts', 'test/nonfinite.test.ts', 'test/split-k.test.ts', 'test/kernel.test.ts'];
const relaxedFlags = engineHasRelaxedSimd() ? [] : ['--experimental-wasm-relaxed-simd'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'simd128', include: ['test/**/*.test.ts'], provide: { kernel: 'simd128' } } },
      { extends: true, test: { name: 'relaxed', include: RESULT_SUITES, pool: 'forks', execArgv: relaxedFlags, provide: { kernel: 'relaxed' } } },
    ],
  },
});
