// Dilated windows on cpu-wasm with and without the residue partition (partitionDilation), side by side in one
// run (alternating calls, so machine noise hits both), against a local window with the same keys per query.
// Prints each pattern's median time, and the prep and attend phases (lastRun().phaseMs; a partitioned call sums its groups).
// Usage (after `pnpm --filter @sparse/cpu-wasm build`): node bench/dilation.mjs [N=16384] [H=4] [threads=2] [reps=5]
import { cpuWasm } from '../dist/index.js';

const [N, H, threads, reps] = [16384, 4, 2, 5].map((d, i) => Number(process.argv[2 + i] ?? d));
const D = 64;
const tensor = (seed) => ({ data: Float32Array.from({ length: H * N * D }, (_, i) => Math.sin(i * 0.37 + seed)), shape: [1, H, N, D] });
const qkv = { q: tensor(1), k: tensor(2), v: tensor(3) };
const on = cpuWasm({ threads });
const off = cpuWasm({ threads, partitionDilation: false });
console.log(`cpu-wasm, ${threads} thread(s): B=1 H=${H} N=${N} D=${D}, median of ${reps} (alternating calls)`);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Phases of the last call of `on` (partitioned: its groups summed), by pattern: prep and attend milliseconds. */
const phases = { dilated: { prep: [], attend: [] }, local: { prep: [], attend: [] } };
async function time(backend, pattern) {
  const t0 = performance.now();
  await backend.attention({ ...qkv, pattern });
  const ms = performance.now() - t0;
  if (backend === on) {
    const p = phases[pattern.kind];
    p.prep.push(backend.lastRun().phaseMs.prep);
    p.attend.push(backend.lastRun().phaseMs.attend);
  }
  return ms;
}
for (const d of [2, 4, 8]) {
  const W = 256 / d; // 2W + 1 keys per query, over ±256 positions
  const dilated = { kind: 'dilated', dilation: d, left: W, right: W };
  const local = { kind: 'local', left: W, right: W };
  for (const b of [on, off]) await time(b, dilated);
  await time(on, local);
  const t = { on: [], off: [], local: [] };
  for (const p of Object.values(phases)) p.prep.length = p.attend.length = 0;
  for (let r = 0; r < reps; r++) {
    t.on.push(await time(on, dilated));
    t.off.push(await time(off, dilated));
    t.local.push(await time(on, local));
  }
  const [a, b, c] = [median(t.on), median(t.off), median(t.local)];
  console.log(
    `  d=${d} L=R=${W} (${2 * W + 1} keys over ±256): partitioned ${a.toFixed(1)} ms, direct ${b.toFixed(1)} ms (${(b / a).toFixed(2)}× faster); ` +
      `local L=R=${W} ${c.toFixed(1)} ms (partitioned / local ${(a / c).toFixed(2)})`,
  );
  const ph = (p) => `prep ${median(p.prep).toFixed(1)} ms, attend ${median(p.attend).toFixed(1)} ms`;
  console.log(`      phases, partitioned: ${ph(phases.dilated)}; local: ${ph(phases.local)}`);
}
await on.dispose();
await off.dispose();
