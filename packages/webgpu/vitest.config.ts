import { defineConfig } from 'vitest/config';

// One file at a time: the software adapter (SwiftShader) already uses every core, and parallel files would only
// fight over them.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false } });
