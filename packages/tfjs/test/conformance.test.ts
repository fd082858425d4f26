import { describeConformance } from '@sparse/conformance/vitest';
import { tfjs } from '../src/index.js';
import { tf } from './helpers.js';

// Every golden case on both Node-capable tf.js backends, with this package's default settings (cpu: batched
// products read by slices; wasm: plain products read by gatherND) and the float32 tolerance of docs/design.md.
for (const backendName of ['cpu', 'wasm']) {
  describeConformance({
    name: `tfjs on tf.js ${backendName}`,
    create: () => tfjs({ tf, backendName }),
    requireAvailable: true,
  });
}
