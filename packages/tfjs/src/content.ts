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
 *
 * Written with arithmetic and unary ops only: tf.js wasm runs broadcasting comparisons (greater, equal against a
 * [..., 1] threshold) and where() with a scalar (a Tile of it) in slow generic loops, 30-60× slower than a
 * broadcasting sub and step(). s - t == 0 exactly when s == t (finite float32), so the rule is unchanged.
 */
export function topkMask(tf: TF, s: Tensor, k: number, big: number): Tensor {
  const rank = s.shape.length;
  const cols = s.shape[rank - 1]!;
  if (k >= cols) return s;
  const values = tf.topk(s, k, true).values;
  const threshold = tf.slice(values, [...new Array<number>(rank - 1).fill(0), k - 1], [...new Array<number>(rank - 1).fill(-1), 1]);
  const d = tf.sub(s, threshold);
  const greater = tf.step(d); // 1 where s > threshold
  const equal = tf.sub(tf.sub(tf.onesLike(d), tf.step(tf.neg(d))), greater); // 1 where s == threshold
  const quota = tf.sub(tf.scalar(k), tf.sum(greater, rank - 1, true));
  // The first `quota` ties: their running count minus the quota is <= 0.
  const ties = tf.mul(equal, tf.sub(tf.onesLike(d), tf.step(tf.sub(tf.cumsum(equal, rank - 1), quota))));
  return keepOrMask(tf, s, tf.add(greater, ties), big);
}

/** s where keep is 1, -big where it is 0 (keep holds 0/1 floats): exact for finite s, with no where(). */
export function keepOrMask(tf: TF, s: Tensor, keep: Tensor, big: number): Tensor {
  return tf.add(tf.mul(s, keep), tf.mul(tf.sub(keep, tf.scalar(1)), tf.scalar(big)));
}

/** 1 where the int32 labels a and b (broadcasting) are equal, else 0, as float32 (see topkMask for why not equal()). */
export function sameLabel(tf: TF, a: Tensor, b: Tensor): Tensor {
  const d = tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return tf.sub(tf.scalar(1), tf.step(tf.abs(d)));
}
