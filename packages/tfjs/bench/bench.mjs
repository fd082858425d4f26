// Speed and peak memory of @sparse/tfjs against tf.js dense attention on the same tf.js backend.
// Usage (after `pnpm --filter @sparse/tfjs build`):
//   node bench/bench.mjs [--backend wasm] [--sizes 4096,16384,32768] [--heads 1] [--dim 64] [--window 128]
//                        [--reps 3] [--dense-max 16384] [--block 64]
// Dense = softmax(scale · Q Kᵀ) V with the full N × N scores (no mask, so a lower bound on a masked dense run),
// the fastest way to write it in tf.js (k transposed explicitly).
// Times: median wall ms, and in parentheses the process CPU ms (steadier on a shared machine).
// Peak memory is tf.profile's peakBytes during one call: the tensor bytes tf.js tracks (what tf.memory().numBytes
// counts), at their highest.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tfjs } from '../dist/index.js';

tf.env().set('IS_TEST', true); // no Node.js banner
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((s) => s.trim().split(/\s+/)),
);
const backend = args.backend ?? 'wasm';
const sizes = (args.sizes ?? '4096,16384,32768').split(',').map(Number);
const H = Number(args.heads ?? 1);
const D = Number(args.dim ?? 64);
const W = Number(args.window ?? 128);
const reps = Number(args.reps ?? 3);
const denseMax = Number(args['dense-max'] ?? 16384);
const block = Number(args.block ?? 64);

await tf.setBackend(backend);
await tf.ready();

// k is transposed explicitly: tf.js wasm runs matMul(a, b, false, true) on a slow path (about 10x slower).
function dense(q, k, v) {
  return tf.tidy(() => tf.matMul(tf.softmax(tf.matMul(tf.mul(q, tf.scalar(1 / Math.sqrt(D))), tf.transpose(k, [0, 1, 3, 2]))), v));
}
const sparseBackend = tfjs({ tf, backendName: backend, tiles: { blockQ: block, blockK: block } });
async function sparse(q, k, v) {
  return (await sparseBackend.attentionResident({ q, k, v, pattern: { kind: 'local', left: W, right: W } })).out;
}

async function measure(fn, q, k, v) {
  try {
    const warm = await fn(q, k, v);
    await warm.data();
    warm.dispose();
    const times = [];
    const cpus = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const out = await fn(q, k, v);
      await out.data();
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpus.push((c.user + c.system) / 1000);
      out.dispose();
    }
    let kept;
    const prof = await tf.profile(async () => {
      kept = await fn(q, k, v);
      await kept.data();
    });
    kept.dispose();
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { ms: median(times), cpu: median(cpus), peakMiB: prof.peakBytes / 2 ** 20 };
  } catch (e) {
    return { error: String(e?.message ?? e).slice(0, 80) };
  }
}

console.log(`tf.js ${tf.version_core} backend=${backend} B=1 H=${H} D=${D} local L=R=${W} tiles ${block}x${block} reps=${reps}`);
console.log('N\tsparse ms (cpu ms)\tsparse peak MiB\tdense ms (cpu ms)\tdense peak MiB\tspeedup (cpu)\tmemory ratio');
for (const N of sizes) {
  const q = tf.randomNormal([1, H, N, D]);
  const k = tf.randomNormal([1, H, N, D]);
  const v = tf.randomNormal([1, H, N, D]);
  const s = await measure(sparse, q, k, v);
  const d = N <= denseMax ? await measure(dense, q, k, v) : { error: 'skipped (--dense-max)' };
  const fmt = (r, key, digits) => (r.error ? r.error : r[key].toFixed(digits));
  const speed = s.ms && d.ms ? `${(d.ms / s.ms).toFixed(1)}x (${(d.cpu / s.cpu).toFixed(1)}x)` : '-';
  const mem = s.peakMiB && d.peakMiB ? (d.peakMiB / s.peakMiB).toFixed(1) + 'x' : '-';
  const time = (r) => (r.error ? r.error : `${r.ms.toFixed(0)} (${r.cpu.toFixed(0)})`);
  console.log(`${N}\t${time(s)}\t${fmt(s, 'peakMiB', 1)}\t${time(d)}\t${fmt(d, 'peakMiB', 1)}\t${speed}\t${mem}`);
  try {
    tf.dispose([q, k, v]);
  } catch {
    // After an out-of-memory failure of the dense run the wasm heap is unusable: stop here.
    break;
  }
}
