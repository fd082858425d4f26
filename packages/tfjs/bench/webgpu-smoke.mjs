// Smoke check of the tf.js webgpu backend in Node through the `webgpu` package (Dawn), SwiftShader if no GPU.
// node bench/webgpu-smoke.mjs
import { existsSync } from 'node:fs';
import { referenceAttention } from '@sparse/core/reference';
import * as tf from '@tensorflow/tfjs-core';
import { create, globals } from 'webgpu';
import { tfjs } from '../dist/index.js';

const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && process.argv[2] === 'software' && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
Object.assign(globalThis, globals);
globalThis.navigator = { gpu: create([]), userAgent: 'node' };
// The tf.js webgpu backend registers itself at import only where navigator.gpu exists.
await import('@tensorflow/tfjs-backend-webgpu');
const ok = await tf.setBackend('webgpu');
await tf.ready();
console.log('setBackend webgpu', ok, tf.getBackend(), 'precision', tf.backend().floatPrecision());
const adapter = await globalThis.navigator.gpu.requestAdapter();
console.log('adapter', adapter?.info?.vendor, adapter?.info?.architecture, adapter?.info?.description);
const B = 1,
  H = 2,
  S = 300,
  D = 16;
const rnd = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 0.9);
const req = {
  q: { data: rnd(B * H * S * D, 1), shape: [B, H, S, D] },
  k: { data: rnd(B * H * S * D, 2), shape: [B, H, S, D] },
  v: { data: rnd(B * H * S * D, 3), shape: [B, H, S, D] },
  pattern: { kind: 'local', left: 20, right: 5 },
  returnLse: true,
};
const ref = referenceAttention(req);
const { out, lse } = await tfjs({ tf, backendName: 'webgpu' }).attentionResident({
  ...req,
  q: tf.tensor(req.q.data, req.q.shape),
  k: tf.tensor(req.k.data, req.k.shape),
  v: tf.tensor(req.v.data, req.v.shape),
});
const o = await out.data();
const l = await lse.data();
let e = 0,
  el = 0;
for (let i = 0; i < o.length; i++) e = Math.max(e, Math.abs(o[i] - ref.out.data[i]));
for (let i = 0; i < l.length; i++) el = Math.max(el, Math.abs(l[i] - ref.lse.data[i]));
console.log('max |out - ref|', e, 'max |lse - ref|', el);
