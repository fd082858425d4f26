// Development check of this package's speed (the repo's benchmark harness is apps/bench):
// sliding window B=1, H=8, N=16384, D=64, L=R=256; effective GFLOP/s = 4·nnz·D / t against the SIMD128 peak.
// Usage: node bench/sliding.mjs [threads...]   (after `pnpm build`; env N, H, D, W, BQ, BK, REPS override)
import { cpuWasm, measureSimdPeak } from '../dist/index.js';
import { env, rand } from './common.mjs';

const N = env('N', 16384);
const H = env('H', 8);
const D = env('D', 64);
const W = env('W', 256);
const reps = env('REPS', 3);
const tiles = { blockQ: env('BQ', 32), blockK: env('BK', 32) };
const threadCounts = process.argv.slice(2).map(Number);
if (threadCounts.length === 0) threadCounts.push(1, 2);

const shape = [1, H, N, D];
const request = {
  q: { data: rand(H * N * D, 1), shape },
  k: { data: rand(H * N * D, 2), shape },
  v: { data: rand(H * N * D, 3), shape },
  pattern: { kind: 'local', left: W, right: env('R', W) },
};

const peak = await measureSimdPeak({ repeats: env('PEAK_REPS', 20), durationMs: 400 });
console.log(`SIMD128 peak (1 thread): ${peak.gflops.toFixed(1)} GFLOP/s  runs ${peak.runs.map((r) => r.toFixed(1)).join(' ')}`);
const results = {};
for (const threads of threadCounts) {
  const be = cpuWasm({ threads, tiles });
  await be.attention(request); // warm-up: workers, tier-up, memory growth
  let best = Infinity;
  let bestCpu = Infinity;
  let stats;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await be.attention(request);
    const dt = (performance.now() - t) / 1000;
    const cu = process.cpuUsage(c);
    bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1e6);
    if (dt < best) {
      best = dt;
      stats = be.lastRun();
    }
  }
  const gflops = (4 * stats.nnz * D) / best / 1e9;
  const perCpu = (4 * stats.nnz * D) / bestCpu / 1e9;
  // The kernel alone: the attend phase of the fastest call (no copies in or out, no planning).
  const kernel = (4 * stats.nnz * D) / (stats.phaseMs.attend / 1000) / 1e9;
  results[threads] = best;
  console.log(
    `threads ${threads}: ${(best * 1000).toFixed(1)} ms  ${gflops.toFixed(1)} GFLOP/s effective  ` +
      `(${((100 * gflops) / (peak.gflops * threads)).toFixed(0)}% of ${threads}× peak; per CPU-second ${perCpu.toFixed(1)} GFLOP/s = ` +
      `${((100 * perCpu) / peak.gflops).toFixed(0)}% of peak)  kernel (attend phase) ${kernel.toFixed(1)} GFLOP/s = ` +
      `${((100 * kernel) / (peak.gflops * threads)).toFixed(0)}% of ${threads}× peak  phases ms ${JSON.stringify(
        Object.fromEntries(Object.entries(stats.phaseMs).map(([k, v]) => [k, +v.toFixed(1)])),
      )}  arena ${(stats.arenaBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  await be.dispose();
}
if (results[1] && results[2]) console.log(`speed-up 2 threads vs 1: ${(results[1] / results[2]).toFixed(2)}×`);
