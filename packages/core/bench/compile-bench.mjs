// Compile-time benchmark of the block-mask compiler: local L=R=256 and Longformer for Sq = Sk = 131072 with 64×64 tiles.
// Usage: node bench/compile-bench.mjs [--json]   (after `pnpm build`)
import { compileBlockMask, local, longformer } from '../dist/index.js';

const n = 131072;
const tiles = { blockQ: 64, blockK: 64 };
const cases = [
  ['local L=R=256', local(256), 20],
  ['longformer w=512 (±256) + dilated d=2 ±256 steps + 4 globals', longformer({ attentionWindow: 512, dilation: 2, globalTokens: [0, 1, 2, 3] }), 50],
  ['longformer w=512 + 4 globals', longformer({ attentionWindow: 512, globalTokens: [0, 1, 2, 3] }), 50],
];
const results = [];
for (const [name, pattern, goalMs] of cases) {
  const times = [];
  let mask;
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    mask = compileBlockMask(pattern, { seqQ: n, seqK: n, offset: 0 }, tiles);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[3];
  const s = mask.stats;
  const denseBitmapBytes = (n * n) / 8;
  results.push({
    name,
    medianMs: +median.toFixed(2),
    goalMs,
    listedBlocks: s.fullBlocks + s.partialBlocks,
    full: s.fullBlocks,
    partial: s.partialBlocks,
    density: s.density,
    maskBytes: s.bytes,
    denseBitmapBytes,
  });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
else {
  console.log(`compile ${n} × ${n}, tiles 64×64, median of 7 (node ${process.version})`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(62)} ${String(r.medianMs).padStart(8)} ms (goal < ${r.goalMs} ms) ` +
        `blocks ${r.full} full + ${r.partial} partial, density ${(r.density * 100).toFixed(3)}%, ` +
        `mask ${(r.maskBytes / 2 ** 20).toFixed(2)} MiB vs dense bitmap ${(r.denseBitmapBytes / 2 ** 30).toFixed(0)} GiB`,
    );
  }
}
