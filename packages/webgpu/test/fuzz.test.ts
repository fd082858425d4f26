import { describeFuzz } from '@sparse/conformance/vitest';
import { webgpu } from '../src/index.js';
import { TEST_OPTIONS } from './support/gpu.js';

// The shared fuzz properties on a real adapter, or SwiftShader through Node's `webgpu` package. In CI an unavailable
// adapter fails the suite; elsewhere it is skipped with the probe's reason.
// The leak check also counts the GPU buffers the backend holds (its pool is bounded, so the count stays flat).
const backend = webgpu(TEST_OPTIONS);
describeFuzz({
  name: 'webgpu (Node, Dawn)',
  create: () => backend,
  resources: () => ({ gpuBuffers: backend.lastRun()?.buffersLive ?? 0 }),
});
