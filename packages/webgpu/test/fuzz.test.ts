import { describeFuzz } from '@sparse/conformance/vitest';
import { webgpu } from '../src/index.js';
import { TEST_OPTIONS } from './support/gpu.js';

// The shared fuzz properties on a real adapter, or SwiftShader through Node's `webgpu` package. In CI an unavailable
// adapter fails the suite; elsewhere it is skipped with the probe's reason.
describeFuzz({ name: 'webgpu (Node, Dawn)', create: () => webgpu(TEST_OPTIONS) });
