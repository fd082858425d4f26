import type { ClusterPattern } from '../pattern/types.js';

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A score a float32 kernel can hold: not NaN, not ±Infinity, and |s| <= FLOAT32_MAX (so overflow agrees). */
export function isFiniteFloat32(s: number): boolean {
  return Math.abs(s) <= FLOAT32_MAX;
}

/** Unit-normalised centroids, float64, flattened [C · D]. */
export function normalisedCentroids(p: ClusterPattern): Float64Array {
  const C = p.centroids.length;
  const D = p.centroids[0]!.length;
  const out = new Float64Array(C * D);
  for (let c = 0; c < C; c++) {
    const row = p.centroids[c]!;
    let norm = 0;
    for (let d = 0; d < D; d++) norm += row[d]! * row[d]!;
    norm = Math.sqrt(norm);
    for (let d = 0; d < D; d++) out[c * D + d] = row[d]! / norm;
  }
  return out;
}

/** c(x) = argmax_c <x, μ_c/‖μ_c‖>, ties to the smaller c, accumulated in float64. */
export function clusterLabel(x: Float32Array, at: number, unit: Float64Array, D: number): number {
  const C = unit.length / D;
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[at + d]! * unit[c * D + d]!;
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

/**
 * The top-k rule as a per-row threshold: keep s > threshold, and s == threshold only for j <= tieCut. With fewer
 * than k candidates everything is kept (threshold -Infinity). Ties go to the smaller j.
 */
export interface TopkCut {
  threshold: number;
  tieCut: number;
}

export function topkCut(scores: ArrayLike<number>, keys: ArrayLike<number>, count: number, k: number): TopkCut {
  if (count <= k) return { threshold: -Infinity, tieCut: Infinity };
  const order = Array.from({ length: count }, (_, n) => n).sort((a, b) => scores[b]! - scores[a]! || keys[a]! - keys[b]!);
  const threshold = scores[order[k - 1]!]!;
  return { threshold, tieCut: keys[order[k - 1]!]! };
}
