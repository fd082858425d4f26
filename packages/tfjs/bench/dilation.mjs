// Dilated windows on @sparse/tfjs with and without the residue partition (partitionDilation), side by side in
// one run (alternating calls), against a local window with the same keys per query.
// Usage (after `pnpm --filter @sparse/tfjs build`): node bench/dilation.mjs [--backend wasm] [--n 4096] [--heads 4]
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
const [N, H, D, reps] = [Number(arg('n', 4096)), Number(arg('heads', 4)), 64, 3];
await tf.setBackend(backendName);
await tf.ready();
const tensor = (seed) => ({ data: Float32Array.from({ length: H * N * D }, (_, i) => Math.sin(i * 0.37 + seed)), shape: [1, H, N, D] });
const request = { q: tensor(1), k: tensor(2), v: tensor(3) };
const on = tfjs({ tf, backendName });
const off = tfjs({ tf, backendName, partitionDilation: false });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`@sparse/tfjs on tf.js ${backendName}: B=1 H=${H} N=${N} D=${D}, median of ${reps} (alternating calls)`);
for (const d of [2, 4, 8]) {
  const W = 256 / d;
  const dilated = { kind: 'dilated', dilation: d, left: W, right: W };
  const local = { kind: 'local', left: W, right: W };
  for (const b of [on, off]) await b.attention({ ...request, pattern: dilated });
  const t = { on: [], off: [], local: [] };
  for (let r = 0; r < reps; r++)
    for (const [key, b, pattern] of [
      ['on', on, dilated],
      ['off', off, dilated],
      ['local', on, local],
    ]) {
      const t0 = performance.now();
      await b.attention({ ...request, pattern });
      t[key].push(performance.now() - t0);
    }
  const [a, b, c] = [median(t.on), median(t.off), median(t.local)];
  console.log(`  d=${d} L=R=${W}: partitioned ${a.toFixed(0)} ms, direct ${b.toFixed(0)} ms (${(b / a).toFixed(2)}× faster); local ${c.toFixed(0)} ms`);
}
