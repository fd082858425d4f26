// The behaviour suite every backend shares (bad inputs, abort, dispose, bursts, input ownership, resident calls,
// tolerance, lastRun) on cuda-native with its addon replaced by the model (addon-model.ts), so that every JS layer
// of the package runs it on any machine; device tensors are CudaTensors (upload, attentionResident, download).
import { describeBehaviour } from '@sparse/conformance/vitest';
import type { Backend } from '@sparse/core';
import type { CudaNativeBackend } from '../src/backend.js';
import type { CudaTensor } from '../src/tensor.js';
import { modelBackend } from './model-backend.js';

const cuda = (b: Backend) => b as CudaNativeBackend;

describeBehaviour<CudaTensor>({
  name: 'cuda-native (addon model, float32)',
  create: (options) => modelBackend({ ...options }),
  resident: {
    upload: (t, b) => cuda(b).upload(t),
    download: (t, b) => cuda(b).download(t),
    release: (t) => t.dispose(),
  },
  // The kernel emulator is float64 JavaScript: a quarter of the default long call is still long enough to abort.
  slowCall: { Sq: 512, Sk: 512 },
  requireAvailable: true,
});
