// Kernel efficiency on a small problem, robust to a shared machine: many short calls, best attend-phase time,
// against the best of many short SIMD peak runs. Sliding window L=R=W over N rows, one thread.
// Usage: node bench/kernel.mjs [threads...]   (env N=2048 H=1 D=64 W=256 BQ=32 BK=32 REPS=60)
import { cpuWasm, measureSimdPeak } from '../dist/index.js';
import { env, rand } from './common.mjs';

const N = env('N', 2048);
const H = env('H', 1);
const D = env('D', 64);
const W = env('W', 256);
const reps = env('REPS', 60);
const shape = [1, H, N, D];
const req = {
  q: { data: rand(H * N * D, 1), shape },
  k: { data: rand(H * N * D, 2), shape },
  v: { data: rand(H * N * D, 3), shape },
  pattern: { kind: 'local', left: W, right: W },
};
const threadCounts = process.argv.slice(2).map(Number);
if (threadCounts.length === 0) threadCounts.push(1);
const best = {};
let nnz = 0;
for (const threads of threadCounts) {
  const be = cpuWasm({ threads, tiles: { blockQ: env('BQ', 32), blockK: env('BK', 32) } });
  for (let r = 0; r < 5; r++) await be.attention(req);
  best[threads] = Infinity;
  for (let r = 0; r < reps; r++) {
    await be.attention(req);
    const s = be.lastRun();
    nnz = s.nnz;
    best[threads] = Math.min(best[threads], s.phaseMs.attend);
  }
  await be.dispose();
}
const peak = await measureSimdPeak({ repeats: 60, durationMs: 300 });
for (const threads of threadCounts) {
  const g = (4 * nnz * D) / (best[threads] / 1000) / 1e9;
  console.log(
    `${threads} thread(s): attend best ${best[threads].toFixed(2)} ms: ${g.toFixed(1)} GFLOP/s effective = ` +
      `${((100 * g) / (threads * peak.gflops)).toFixed(0)}% of ${threads}× the SIMD128 peak ${peak.gflops.toFixed(1)} GFLOP/s`,
  );
}
if (best[1] && best[2]) console.log(`2 threads vs 1 (attend phase): ${(best[1] / best[2]).toFixed(2)}×`);
