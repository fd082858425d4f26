import { describeFuzz } from '@sparse/conformance/vitest';
import { modelBinding } from './addon-model.js';
import { modelBackend } from './model-backend.js';

// The shared fuzz properties through every JavaScript layer of cuda-native (validation, packing, dispose) over the
// addon model: the kernel emulator in float32 stands in for the device, so this runs on any machine.
const binding = modelBinding();
const backend = modelBackend({ precision: 'float32' }, binding);
describeFuzz({
  name: 'cuda-native (addon model, float32)',
  create: () => backend,
  resources: async () => ({ liveTensors: binding.tensorCount() }),
  requireAvailable: true,
});
