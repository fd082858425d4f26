/**
 * Splits the tasks of `ranges` (each [start, end) of task ids, in order) into about `count` contiguous chunks of
 * equal total cost. Returns flat [start, end) pairs. Threads take chunks from a shared counter, so equal-cost
 * chunks (several per thread) balance the work by visited blocks even when other processes steal a core.
 */
export function balancedChunks(ranges: readonly (readonly [number, number])[], cost: (t: number) => number, count: number): Int32Array {
  let total = 0;
  for (const [a, b] of ranges) for (let t = a; t < b; t++) total += cost(t);
  const out: number[] = [];
  const target = total / Math.max(1, count);
  for (const [a, b] of ranges) {
    let start = a;
    let acc = 0;
    for (let t = a; t < b; t++) {
      acc += cost(t);
      if (acc >= target && t + 1 < b) {
        out.push(start, t + 1);
        start = t + 1;
        acc = 0;
      }
    }
    if (start < b) out.push(start, b);
  }
  return Int32Array.from(out);
}

/**
 * Cost of attention task t = (hp · B + b) · numQBlocks + qb (hp: the query head, or the pack of headPack heads from
 * head hp · headPack): the key blocks it visits, plus a fixed part per row block.
 */
export function attentionCost(
  listed: (h: number, qb: number) => number,
  batch: number,
  numQBlocks: number,
  tileArea: number,
  headPack = 1,
): (t: number) => number {
  return (t) => {
    const qb = t % numQBlocks;
    const h = Math.floor(t / numQBlocks / batch) * headPack;
    return (listed(h, qb) + 1) * tileArea;
  };
}

/** Runs of consecutive blocks of an increasing list, as [first, end) pairs. */
export function blockRuns(blocks: Int32Array): [number, number][] {
  const runs: [number, number][] = [];
  for (const kb of blocks) {
    const last = runs[runs.length - 1];
    if (last && last[1] === kb) last[1] = kb + 1;
    else runs.push([kb, kb + 1]);
  }
  return runs;
}
