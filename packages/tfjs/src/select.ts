import type { Tensor, TF } from './types.js';

/**
 * where(condition, a, b), as one Select kernel when the three tensors have one shape (up to leading 1s):
 * tf.where first passes every input through broadcastTo, which copies a tensor that already has the shape.
 */
export function select(tf: TF, condition: Tensor, a: Tensor, b: Tensor): Tensor {
  const size = (t: Tensor) => t.shape.reduce((n, d) => n * d, 1);
  if (size(condition) !== size(a) || size(b) !== size(a) || !sameTail(condition, a) || !sameTail(b, a)) return tf.where(condition, a, b);
  const t = (x: Tensor) => (x.shape.length === a.shape.length ? x : tf.reshape(x, a.shape));
  return tf.engine().runKernel('Select', { condition: t(condition), t: a, e: t(b) }) as Tensor;
}

/** x's shape, without leading 1s, equals a's without leading 1s. */
function sameTail(x: Tensor, a: Tensor): boolean {
  const trim = (s: readonly number[]) => s.slice(s.findIndex((d) => d !== 1));
  const [p, q] = [trim(x.shape), trim(a.shape)];
  return p.length === q.length && p.every((d, i) => d === q[i]);
}
