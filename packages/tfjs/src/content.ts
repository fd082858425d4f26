import { type ClusterPattern, normalisedCentroids } from '@sparse/core';
import type { Tensor, TF } from './types.js';

/**
 * Cluster labels of rows [..., D] → int32 [...]: argmax_c <x, μ_c/‖μ_c‖>; tf.js argMax keeps the first maximum,
 * so ties go to the smaller c (DESIGN §3).
 */
export function clusterLabels(tf: TF, x: Tensor, pattern: ClusterPattern): Tensor {
  const D = x.shape[x.shape.length - 1]!;
  const unit = normalisedCentroids(pattern);
  const C = unit.length / D;
  const centroids = tf.tensor2d(Float32Array.from(unit), [C, D]);
  const scores = tf.matMul(tf.reshape(x, [-1, D]), centroids, false, true);
  return tf.reshape(tf.argMax(scores, 1), x.shape.slice(0, -1));
}

/**
 * Top-k as a per-row rule on the masked scores s [..., cols] (masked entries hold -big): the threshold is the
 * k-th largest value; keep s > threshold, and of the entries equal to it the first (k - #greater) in column
 * order, which is key order, so ties go to the smaller j. Rows with fewer than k candidates have a threshold of
 * -big and keep every candidate. Returns s with the dropped entries set to -big.
 */
export function topkMask(tf: TF, s: Tensor, k: number, big: number): Tensor {
  const rank = s.shape.length;
  const cols = s.shape[rank - 1]!;
  if (k >= cols) return s;
  const values = tf.topk(s, k, true).values;
  const threshold = tf.slice(values, [...new Array<number>(rank - 1).fill(0), k - 1], [...new Array<number>(rank - 1).fill(-1), 1]);
  const greater = tf.greater(s, threshold);
  const equal = tf.equal(s, threshold);
  const quota = tf.sub(tf.scalar(k), tf.sum(tf.cast(greater, 'float32'), rank - 1, true));
  const rank1 = tf.cumsum(tf.cast(equal, 'float32'), rank - 1);
  const keep = tf.logicalOr(greater, tf.logicalAnd(equal, tf.lessEqual(rank1, quota)));
  return tf.where(keep, s, tf.scalar(-big));
}
