// The cuda-native backend with its addon replaced by the JavaScript model (addon-model.ts): every JS layer
// of the package (validation, packing, resident tensors, dispose) over the kernel emulator.
import { type CudaNativeBackend, createCudaNative } from '../src/backend.js';
import type { NativeBinding } from '../src/binding.js';
import type { CudaNativeOptions } from '../src/options.js';
import { modelBinding } from './addon-model.js';

export function modelBackend(options: CudaNativeOptions = {}, binding: NativeBinding = modelBinding()): CudaNativeBackend {
  return createCudaNative(options, async () => ({ ok: true, binding, path: 'model', source: 'test/addon-model.ts' }));
}
