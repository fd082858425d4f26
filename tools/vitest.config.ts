import { defineConfig } from 'vitest/config';

// The consumer project's globalSetup starts the local registry and releases to it; vitest runs it only when a test
// file of that project is selected, so `vitest run test/` goes without.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'consumer', include: ['consumer/**/*.test.ts'], globalSetup: ['registry/global-setup.ts'] } },
    ],
  },
});
