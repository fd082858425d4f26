// Development check of decode over a resident KV cache, the way a model's decode loop runs it: one cache (a ring
// with a window), then steps of append(1 new K/V row) + attentionResident(q of 1 row) + download(out). Unlike the
// repo's harness (apps/bench), which rolls the ring back between steps so every step reads the same tiles, the cache
// here just advances, as in a real loop. Prints the median step, its attend phase and GFLOP/s (4 · Hq · w · D / t).
// Usage: node bench/decode.mjs [threads | inline ...]   (after `pnpm build`; env W, HQ, HKV, D, STEPS override;
// default: inline, 1 and 2 threads; window 4096, GQA 32:8, D = 128)
import { cpuWasm } from '../dist/index.js';
import { env, rand } from './common.mjs';

const W = env('W', 4096);
const Hq = env('HQ', 32);
const Hkv = env('HKV', 8);
const D = env('D', 128);
const steps = env('STEPS', 1000);
const modes = process.argv.slice(2);
if (modes.length === 0) modes.push('inline', '1', '2');

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

console.log(`decode: window ${W}, Hq ${Hq}, Hkv ${Hkv}, D ${D}; ${steps} steps after ${steps / 4} warm-up steps`);
for (const mode of modes) {
  const be = cpuWasm(mode === 'inline' ? { inline: true } : { threads: Number(mode) });
  const cache = await be.kvCache({ headsKv: Hkv, headDim: D, capacity: W + 16, window: W });
  const fill = { data: rand(Hkv * cache.config.slots * D, 1), shape: [1, Hkv, cache.config.slots, D] };
  await cache.append(fill, fill);
  const k = { data: rand(Hkv * D, 2), shape: [1, Hkv, 1, D] };
  const v = { data: rand(Hkv * D, 3), shape: [1, Hkv, 1, D] };
  const q = { data: rand(Hq * D, 4), shape: [1, Hq, 1, D] };
  const pattern = { kind: 'local', left: W - 1, right: 0 };
  const wall = [];
  const attend = [];
  for (let i = 0; i < steps + steps / 4; i++) {
    const t = performance.now();
    await cache.append(k, v);
    const r = await be.attentionResident({ q, k: cache, v: cache, pattern });
    await be.download(r.out);
    const dt = performance.now() - t;
    r.out.release();
    if (i >= steps / 4) {
      wall.push(dt);
      attend.push(be.lastRun().phaseMs.attend);
    }
  }
  const info = be.lastRun();
  const step = median(wall);
  const gflops = (4 * Hq * W * D) / step / 1e6;
  console.log(
    `${mode === 'inline' ? 'inline (calling thread)' : `${mode} thread${mode === '1' ? '' : 's'}`}: step ${step.toFixed(2)} ms ` +
      `(attend phase ${median(attend).toFixed(2)} ms)  ${gflops.toFixed(1)} GFLOP/s  heads per task ${info.headsPerTask}, key splits ${info.keySplits}`,
  );
  cache.release();
  await be.dispose();
}
