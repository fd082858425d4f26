import { describeConformance } from '@sparse/conformance/vitest';
import { describe, expect, it } from 'vitest';
import { tfjs, toleranceFor } from '../src/index.js';
import { tf } from './helpers.js';
import { setUpNodeWebgpu } from './node-webgpu.js';

// The tf.js webgpu backend in Node (the `webgpu` package; SwiftShader where there is no GPU). Optional: where
// no adapter exists the cases are skipped with the reason, never failed.
const setUp = await setUpNodeWebgpu();
const unavailable = 'unavailable' in setUp ? setUp.unavailable : null;

describe('tf.js webgpu backend', () => {
  it.skipIf(unavailable !== null)(`runs resident calls without leaking (${unavailable ?? ('adapter' in setUp ? setUp.adapter : '')})`, async () => {
    await tf.setBackend('webgpu');
    await tf.ready();
    const be = tfjs({ tf, backendName: 'webgpu', tiles: { blockQ: 16, blockK: 16 } });
    const q = tf.randomNormal([1, 2, 40, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const r = await be.attentionResident({ q, k: q, v: q, pattern: { kind: 'causal' }, returnLse: true });
      await r.out.data();
      tf.dispose([r.out, r.lse!]);
    }
    expect(tf.memory().numTensors).toBe(before);
    q.dispose();
    await be.dispose();
  });
});

describeConformance({
  name: 'tfjs on tf.js webgpu',
  create: () => tfjs({ tf, backendName: 'webgpu' }),
  tolerance: toleranceFor('webgpu'),
  requireAvailable: false,
});
