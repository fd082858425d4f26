import { describeBehaviour } from '@sparse/conformance/vitest';
import { type Tensor, tfjs } from '../src/index.js';
import { tf } from './helpers.js';

// What every backend does the same way (bad input, abort, dispose, bursts, input ownership, resident calls,
// tolerance, lastRun) on both Node-capable tf.js backends; device tensors are tf.Tensors.
for (const backendName of ['cpu', 'wasm']) {
  describeBehaviour<Tensor>({
    name: `tfjs on tf.js ${backendName}`,
    create: (options) => tfjs({ tf, backendName, ...options }),
    resident: {
      // A copy: tf.js's cpu backend would keep the suite's own array.
      upload: (t) => tf.tensor(t.data.slice(), [...t.shape]),
      download: async (t) => ({ data: (await t.data()) as Float32Array, shape: [...t.shape] }),
      release: (t) => t.dispose(),
    },
    requireAvailable: true,
  });
}
