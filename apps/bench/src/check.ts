import type { AttentionRequest } from '@sparse/core';
import { rowOffset } from '@sparse/core/backend';
import { type RowSample, referenceRows } from '@sparse/core/reference';
import type { CheckFigures } from './types.js';

/** Tolerance of the spot check: loose enough for float32 sums over 65k keys, tight enough to catch a wrong mask. */
export const CHECK_ATOL = 1e-4;
export const CHECK_RTOL = 1e-3;

/** Rows spread over heads and positions (first, last and evenly in between). */
export function sampleRows(headsQ: number, seq: number, count: number): RowSample[] {
  const rows: RowSample[] = [];
  for (let n = 0; n < count; n++) {
    const i = n === 0 ? 0 : n === 1 ? seq - 1 : Math.min(seq - 1, Math.floor(((n - 1) / (count - 1)) * seq + ((n * 37) % 17)));
    rows.push({ b: 0, h: (n * 5) % headsQ, i });
  }
  return rows;
}

/** Compares `out` (bhsd, float32) with core's float64 reference on sampled rows. */
export function checkOutput(request: AttentionRequest, out: Float32Array, count: number): CheckFigures {
  const [, H, S] = request.q.shape as number[];
  const dv = request.v.shape[3]!;
  const samples = sampleRows(H!, S!, Math.min(count, H! * S!));
  const ref = referenceRows(request, samples);
  let maxAbsErr = 0;
  let ok = true;
  samples.forEach((s, n) => {
    const at = rowOffset('bhsd', H!, S!, dv, s.b, s.h, s.i);
    const want = ref[n]!.out;
    for (let d = 0; d < dv; d++) {
      const got = out[at + d]!;
      const err = Math.abs(got - want[d]!);
      if (!(err <= CHECK_ATOL + CHECK_RTOL * Math.abs(want[d]!))) ok = false;
      if (!(err <= maxAbsErr)) maxAbsErr = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
    }
  });
  return { rows: samples.length, maxAbsErr, ok };
}
