// Kᵀ chunks for the prep phase: eight keys' rows turned into [D][8] (key c at lane c), the layout scoreGroup reads
// with one pointer and immediate offsets. Four values of eight rows at a time, as two 4 × 4 transposes.

/**
 * Keys 0 … n − 1 (n ≤ 8) of one chunk, their rows `stride` bytes apart from `rows`, written as [D][8] at dst; keys
 * n … 7 are zeros (past the keys there are).
 */
export function transposeChunk(rows: usize, stride: usize, n: i32, D: i32, dst: usize): void {
  if (n < 8) {
    for (let c = 0; c < 8; c++) {
      const row = rows + <usize>c * stride;
      let out = dst + ((<usize>c) << 2);
      for (let d = 0; d < D; d++) {
        store<f32>(out, c < n ? load<f32>(row + ((<usize>d) << 2)) : 0);
        out += 32;
      }
    }
    return;
  }
  const r0 = rows;
  const r1 = r0 + stride;
  const r2 = r1 + stride;
  const r3 = r2 + stride;
  const r4 = r3 + stride;
  const r5 = r4 + stride;
  const r6 = r5 + stride;
  const r7 = r6 + stride;
  let d = 0;
  for (; d + 4 <= D; d += 4) {
    const o = (<usize>d) << 2;
    const out = dst + ((<usize>d) << 5);
    storeQuarter(out, v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o));
    storeQuarter(out + 16, v128.load(r4 + o), v128.load(r5 + o), v128.load(r6 + o), v128.load(r7 + o));
  }
  for (; d < D; d++) {
    const o = (<usize>d) << 2;
    const out = dst + ((<usize>d) << 5);
    for (let c = 0; c < 8; c++) store<f32>(out + ((<usize>c) << 2), load<f32>(rows + <usize>c * stride + o));
  }
}

/** Values d … d + 3 of four keys (a, b, c, e) as four 4-key vectors at out, out + 32, out + 64, out + 96. */
function storeQuarter(out: usize, a: v128, b: v128, c: v128, e: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, e, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(out, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
  v128.store(out, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
  v128.store(out, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
}
