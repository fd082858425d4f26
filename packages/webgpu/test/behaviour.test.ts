// The behaviour suite every backend shares (bad inputs, abort, dispose, bursts, input ownership, resident calls,
// tolerance, lastRun) on a real adapter, or SwiftShader through Node's `webgpu` package. Device tensors are
// GpuTensors on the backend's own device (upload, attentionResident, download).
import { describeBehaviour } from '@sparse/conformance/vitest';
import type { Backend } from '@sparse/core';
import { type GpuTensor, type WebGpuBackend, webgpu } from '../src/index.js';
import { download, upload } from './support/buffers.js';
import { TEST_OPTIONS } from './support/gpu.js';

const device = (b: Backend) => (b as WebGpuBackend).device();
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describeBehaviour<GpuTensor>({
  name: 'webgpu (Node, Dawn)',
  create: (options) => webgpu({ ...TEST_OPTIONS, ...options }),
  resident: {
    upload: async (t, b) => ({ buffer: upload(await device(b), t.data), shape: [...t.shape] }),
    download: async (t, b) => ({ data: await download(await device(b), t.buffer, size(t.shape)), shape: [...t.shape] }),
    release: (t) => t.buffer.destroy(),
  },
});
