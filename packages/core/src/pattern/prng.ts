/**
 * The random-block PRNG of `randomBlocks` (documented in docs/patterns.md so that every runtime can reproduce it).
 *
 * For query block `qb` (may be negative) the generator is mulberry32 seeded with
 * `fmix32(seed ^ fmix32((qb | 0) >>> 0 ^ 0x9e3779b9))`. `perRow` distinct key blocks out of `m = ceil(Sk / block)`
 * are drawn with Robert Floyd's algorithm: for t = m - perRow … m - 1, r = uniform(t + 1); keep r unless already
 * kept, else keep t. uniform(n) = floor(u32 · n / 2^32) in float64. perRow >= m keeps every block.
 * The result is returned sorted.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function drawKeyBlocks(seed: number, queryBlock: number, numKeyBlocks: number, perRow: number): Int32Array {
  const m = numKeyBlocks;
  if (perRow >= m) {
    const all = new Int32Array(m);
    for (let n = 0; n < m; n++) all[n] = n;
    return all;
  }
  const next = mulberry32(fmix32((seed >>> 0) ^ fmix32(((queryBlock | 0) >>> 0) ^ 0x9e3779b9)));
  const chosen = new Set<number>();
  for (let t = m - perRow; t < m; t++) {
    const r = Math.floor((next() * (t + 1)) / 4294967296);
    chosen.add(chosen.has(r) ? t : r);
  }
  return Int32Array.from(chosen).sort();
}
