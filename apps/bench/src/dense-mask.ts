import { compileBlockMask, type Pattern } from '@sparse/core';
import { clusterLabel, forEachAllowedKey, normalisedCentroids, rowOffset, topkCut } from '@sparse/core/backend';
import type { Inputs } from './data.js';

/** Additive mask value for a disallowed pair: exp underflows to exactly 0 in float32, and no -Infinity − -Infinity NaN. */
export const MASK_VALUE = -1e9;

export interface DenseMask {
  /** [heads, group · rows, seqK]: heads is 1 (shared by every query head) or Hkv (content-based, per head). */
  data: Float32Array;
  heads: number;
}

/**
 * The additive mask a dense peer needs for the last `rows` query rows of a workload (query heads folded as
 * [Hkv][group][rows]). Content-based patterns (top-k, cluster) are resolved here from the inputs, outside the
 * timed region: the peer is timed on the attention only, which flatters it.
 */
export function denseMask(pattern: Pattern, inputs: Inputs, rows: number, scale: number): DenseMask {
  // q [1, Hq, Sq, D] holds the last Sq positions of the N keys (Sq = N for prefill; bottom-right aligned).
  const [, headsQ, Sq, D] = inputs.q.shape as [number, number, number, number];
  const [, headsKv, N] = inputs.k.shape as [number, number, number, number];
  const group = headsQ / headsKv;
  const offset = N - rows;
  const content = pattern.kind === 'topk' || pattern.kind === 'cluster';
  const base = content ? (pattern.within ?? { kind: 'dense' }) : pattern;
  const mask = compileBlockMask(base, { seqQ: rows, seqK: N, offset }, { blockQ: 64, blockK: 64 });
  const perHead = group * rows * N;
  if (!content) {
    const data = new Float32Array(perHead).fill(MASK_VALUE);
    for (let i = 0; i < rows; i++) forEachAllowedKey(mask, i, (j) => (data[i * N + j] = 0));
    for (let g = 1; g < group; g++) data.copyWithin(g * rows * N, 0, rows * N);
    return { data, heads: 1 };
  }
  const data = new Float32Array(headsKv * perHead).fill(MASK_VALUE);
  const q = inputs.q.data;
  const k = inputs.k.data;
  const unit = pattern.kind === 'cluster' ? normalisedCentroids(pattern) : null;
  const keys: number[] = [];
  const scores: number[] = [];
  for (let hk = 0; hk < headsKv; hk++) {
    const kLabels = unit ? Int32Array.from({ length: N }, (_, j) => clusterLabel(k, rowOffset('bhsd', headsKv, N, D, 0, hk, j), unit, D)) : null;
    for (let g = 0; g < group; g++) {
      const h = hk * group + g;
      for (let i = 0; i < rows; i++) {
        const qa = rowOffset('bhsd', headsQ, Sq, D, 0, h, Sq - rows + i);
        const at = (hk * group + g) * rows * N + i * N;
        if (unit && kLabels) {
          const lq = clusterLabel(q, qa, unit, D);
          forEachAllowedKey(mask, i, (j) => {
            if (kLabels[j] === lq) data[at + j] = 0;
          });
          continue;
        }
        keys.length = 0;
        scores.length = 0;
        forEachAllowedKey(mask, i, (j) => {
          const ka = rowOffset('bhsd', headsKv, N, D, 0, hk, j);
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qa + d]! * k[ka + d]!;
          keys.push(j);
          scores.push(s * scale);
        });
        const cut = topkCut(scores, keys, keys.length, (pattern as { k: number }).k);
        keys.forEach((j, n) => {
          if (scores[n]! > cut.threshold || (scores[n] === cut.threshold && j <= cut.tieCut)) data[at + j] = 0;
        });
      }
    }
  }
  return { data, heads: headsKv };
}
