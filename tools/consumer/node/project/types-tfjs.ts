// The tf.js half of the type check, a program of its own: tfjs-core brings its own copy of @webgpu/types, whose
// global declarations conflict with the newer copy @sparse/webgpu uses (two versions of a third-party package,
// which a project with both would meet too), and its declarations use the global `Long` of @types/long, which a
// restrictive "types" list has to name (tsconfig.*-tfjs.json).
import { type AttentionResult, causal } from '@sparse/core';
import { tfjs } from '@sparse/tfjs';
import * as tf from '@tensorflow/tfjs-core';

export async function run(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): Promise<[tf.Tensor, number]> {
  const backend = tfjs({ tf, backendName: 'cpu' });
  const { out } = await backend.attentionResident({ q, k, v, pattern: { kind: 'causal' } });
  const host: AttentionResult = await backend.attention({
    q: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
    k: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
    v: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
    pattern: causal(),
  });
  return [out, host.out.data[0]!];
}
