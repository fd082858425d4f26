// Content-based patterns (top-k, cluster) against the static dense pattern through the same backend, side by
// side in one run: how much the selection passes cost on top of attending every key.
// Usage (after `pnpm --filter @sparse/tfjs build`): node bench/content.mjs [--backend wasm] [--n 1024] [--heads 8]
//   [--dim 64] [--k 32] [--clusters 4] [--reps 5]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tfjs } from '../dist/index.js';

tf.env().set('IS_TEST', true); // no Node.js banner
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const backendName = arg('backend', 'wasm');
const [N, H, D, K, C, reps] = ['n', 'heads', 'dim', 'k', 'clusters', 'reps'].map((n, i) => Number(arg(n, [1024, 8, 64, 32, 4, 5][i])));
await tf.setBackend(backendName);
await tf.ready();

const tensor = (seed) => ({ data: Float32Array.from({ length: H * N * D }, (_, i) => Math.sin(i * 0.37 + seed)), shape: [1, H, N, D] });
const request = { q: tensor(1), k: tensor(2), v: tensor(3) };
const centroids = Array.from({ length: C }, (_, c) => Array.from({ length: D }, (_, d) => Math.cos(c * 7 + d)));
const cases = [
  ['dense (static)', { kind: 'dense' }],
  [`topk k=${K}`, { kind: 'topk', k: K }],
  [`cluster C=${C}`, { kind: 'cluster', centroids }],
];
const backend = tfjs({ tf, backendName });
console.log(`@sparse/tfjs on tf.js ${backendName}: B=1 H=${H} N=${N} D=${D}, median of ${reps} after a warm-up`);
let denseMs = 0;
for (const [name, pattern] of cases) {
  await backend.attention({ ...request, pattern });
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await backend.attention({ ...request, pattern });
    times.push(performance.now() - t0);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(reps / 2)];
  if (!denseMs) denseMs = ms;
  console.log(`  ${name.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / denseMs).toFixed(2)}× the dense pattern`);
}
await backend.dispose();
