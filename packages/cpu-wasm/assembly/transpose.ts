// Kᵀ chunks for the prep phase: eight keys' rows turned into [D][8] (key c at lane c), the layout scoreGroup reads
// with one pointer and immediate offsets. Four values of eight rows at a time, as two 4 × 4 transposes.
import { storeTransposed } from './tile';

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
    // Values d … d + 3 of keys 0–3, then of keys 4–7: rows of [D][8] are 32 bytes apart.
    storeTransposed(out, 32, v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o));
    storeTransposed(out + 16, 32, v128.load(r4 + o), v128.load(r5 + o), v128.load(r6 + o), v128.load(r7 + o));
  }
  for (; d < D; d++) {
    const o = (<usize>d) << 2;
    const out = dst + ((<usize>d) << 5);
    for (let c = 0; c < 8; c++) store<f32>(out + ((<usize>c) << 2), load<f32>(rows + <usize>c * stride + o));
  }
}
