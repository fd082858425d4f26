// A TypeScript app using @sparse/tfjs with tf.js's wasm backend (and the other backends beside it), as installed
// from npm; type-checked, never run.
import { type AttentionRequest, type Backend, causal, local } from '@sparse/core';
import { cpuWasm } from '@sparse/cpu-wasm';
import { type TfjsBackend, tfjs, toleranceFor } from '@sparse/tfjs';
import { webgpu } from '@sparse/webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const shape = [1, 2, 64, 16];
const data = () => new Float32Array(2 * 64 * 16);
const request: AttentionRequest = { q: { data: data(), shape }, k: { data: data(), shape }, v: { data: data(), shape }, pattern: causal() };

setWasmPaths('/tfjs-wasm/');
const backend: TfjsBackend = tfjs({ tf, backendName: 'wasm' });

export async function run(): Promise<number> {
  const backends: Backend[] = [backend, cpuWasm(), webgpu()];
  const results = await Promise.all(backends.map((b) => b.attention(request)));
  // tf.Tensors in and out.
  const q = tf.zeros([1, 2, 64, 16]);
  const out: tf.Tensor = (await backend.attentionResident({ q, k: q, v: q, pattern: local(4, 4) })).out;
  tf.dispose([q, out]);
  return results.length * toleranceFor('wasm').atol;
}
