// Per-kernel time of one sparse call: node bench/profile.mjs [backend] [N] [block]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tfjs } from '../dist/index.js';

tf.env().set('IS_TEST', true);
const [backend = 'wasm', n = '4096', block = '64', heads = '1'] = process.argv.slice(2);
await tf.setBackend(backend);
await tf.ready();
const N = Number(n);
const H = Number(heads);
const q = tf.randomNormal([1, H, N, 64]);
const k = tf.randomNormal([1, H, N, 64]);
const v = tf.randomNormal([1, H, N, 64]);
const sparse = tfjs({ tf, backendName: backend, tiles: { blockQ: Number(block), blockK: Number(block) } });
const run = async () => (await sparse.attentionResident({ q, k, v, pattern: { kind: 'local', left: 128, right: 128 } })).out;
const w = await run();
await w.data();
w.dispose();
const t0 = performance.now();
const info = await tf.profile(async () => {
  const o = await run();
  await o.data();
  o.dispose();
});
console.log(`total ${(performance.now() - t0).toFixed(0)} ms, peak ${(info.peakBytes / 2 ** 20).toFixed(1)} MiB, ${info.kernels.length} kernels`);
const byName = new Map();
for (const kern of info.kernels) {
  const ms = await kern.kernelTimeMs;
  const e = byName.get(kern.name) ?? { ms: 0, n: 0 };
  e.ms += typeof ms === 'number' ? ms : 0;
  e.n++;
  byName.set(kern.name, e);
}
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${name}\t${e.n}\t${e.ms.toFixed(1)} ms`);
