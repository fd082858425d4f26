import { describeFuzz } from '@sparse/conformance/vitest';
import { tfjs } from '../src/index.js';
import { tf } from './helpers.js';

// The shared fuzz properties on both Node-capable tf.js backends; the leak check also counts live tf tensors.
for (const backendName of ['cpu', 'wasm']) {
  describeFuzz({
    name: `tfjs on tf.js ${backendName}`,
    create: () => tfjs({ tf, backendName }),
    resources: () => ({ tfTensors: tf.memory().numTensors }),
    requireAvailable: true,
  });
}
