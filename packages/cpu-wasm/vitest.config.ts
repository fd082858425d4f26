import { defineConfig } from 'vitest/config';

// The tests run the built package (dist/: worker script and .wasm kernels), so `pnpm build` comes first.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, globalSetup: ['test/global-setup.ts'] },
});
