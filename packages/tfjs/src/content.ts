import type { ClusterPattern } from '@sparse/core';
import { normalisedCentroids } from '@sparse/core/backend';
import type { Tensor, TF } from './types.js';

/**
 * Cluster labels of rows [..., D] → int32 [...]: argmax_c <x, μ_c/‖μ_c‖>; tf.js argMax keeps the first maximum,
 * so ties go to the smaller c (docs/design.md, Pattern semantics). A NaN product never wins (it becomes -Infinity first): a row of NaNs
 * gets label 0, as in core's reference.
 */
export function clusterLabels(tf: TF, x: Tensor, pattern: ClusterPattern): Tensor {
  const D = x.shape[x.shape.length - 1]!;
  const unit = normalisedCentroids(pattern);
  const C = unit.length / D;
  const centroids = tf.tensor2d(Float32Array.from(unit), [C, D]);
  const products = tf.matMul(tf.reshape(x, [-1, D]), centroids, false, true);
  const scores = tf.where(tf.isNaN(products), tf.fill(products.shape, Number.NEGATIVE_INFINITY), products);
  return tf.reshape(tf.argMax(scores, 1), x.shape.slice(0, -1));
}

/** The largest finite float32: the top-k threshold of a row with fewer than k candidates is raised to -FLOAT32_MAX. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Top-k as a per-row rule on the selected scores s [..., cols] (keys outside `within` hold -Infinity): the
 * threshold is the k-th largest value; keep s > threshold, and of the entries equal to it the first
 * (k - #greater) in column order, which is key order, so ties go to the smaller j. Returns the kept entries as
 * 0/1 floats. Rows with fewer than k candidates have a threshold of -Infinity, raised to -FLOAT32_MAX so that
 * s - threshold stays a number: every candidate is then kept, every other entry is not (-Inf - t = -Inf).
 * Rows holding a NaN score get an arbitrary selection: the caller makes them NaN anyway.
 *
 * Written with arithmetic and unary ops only: tf.js wasm runs broadcasting comparisons (greater, equal against a
 * [..., 1] threshold) and where() with a scalar (a Tile of it) in slow generic loops, 30-60× slower than a
 * broadcasting sub and step(). s - t == 0 exactly when s == t (float32 subtraction of distinct values is never
 * 0), and its sign is right even where it overflows to ±Infinity.
 */
export function topkKeep(tf: TF, s: Tensor, k: number): Tensor {
  const rank = s.shape.length;
  const cols = s.shape[rank - 1]!;
  if (k >= cols) return tf.onesLike(s);
  const values = tf.topk(s, k, true).values;
  const kth = tf.slice(values, [...new Array<number>(rank - 1).fill(0), k - 1], [...new Array<number>(rank - 1).fill(-1), 1]);
  const d = tf.sub(s, tf.maximum(kth, tf.scalar(-FLOAT32_MAX)));
  const greater = tf.step(d); // 1 where s > threshold
  const equal = tf.sub(tf.sub(tf.onesLike(d), tf.step(tf.neg(d))), greater); // 1 where s == threshold
  const quota = tf.sub(tf.scalar(k), tf.sum(greater, rank - 1, true));
  // The first `quota` ties: their running count minus the quota is <= 0.
  const ties = tf.mul(equal, tf.sub(tf.onesLike(d), tf.step(tf.sub(tf.cumsum(equal, rank - 1), quota))));
  return tf.add(greater, ties);
}

/** 1 where the int32 labels a and b (broadcasting) are equal, else 0, as float32 (see topkKeep for why not equal()). */
export function sameLabel(tf: TF, a: Tensor, b: Tensor): Tensor {
  const d = tf.sub(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return tf.sub(tf.scalar(1), tf.step(tf.abs(d)));
}
