import { describeConformance } from '@sparse/conformance/vitest';
import { webgpu } from '../src/index.js';
import { TEST_OPTIONS } from './support/gpu.js';

// Every golden case on a real adapter, or SwiftShader through Node's `webgpu` package when there is no GPU.
// In CI (CI=true) an unavailable backend fails the suite; elsewhere the cases are skipped with the probe's reason.
describeConformance({
  name: 'webgpu (Node, Dawn)',
  create: () => webgpu(TEST_OPTIONS),
});
