import { mulberry32 } from '../pattern/prng.js';
import type { HostTensor } from '../tensor.js';

export interface RandomOptions {
  /** Small integers -2 … 2 instead of uniform [-1, 1): exact scores, so ties stay ties and margins are exact. */
  integers?: boolean;
  /** Multiplies the uniform values (default 1); ignored with `integers`. */
  scale?: number;
}

/** A float in [-1, 1) from one draw of mulberry32 (u32 / 2³¹ − 1: exact in float64, the same in every package). */
export function unitFloat(u32: number): number {
  return u32 / 2 ** 31 - 1;
}

/** A seeded generator of uniform floats in [-1, 1) (mulberry32). */
export function uniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => unitFloat(next());
}

/** `n` seeded values: uniform in [-1, 1) (times `scale`), or integers -2 … 2 (`(u32 mod 5) − 2`). */
export function randomArray(n: number, seed: number, options: RandomOptions | boolean = {}): Float32Array {
  const o = typeof options === 'boolean' ? { integers: options } : options;
  const next = mulberry32(seed);
  const scale = o.scale ?? 1;
  const data = new Float32Array(n);
  if (o.integers) for (let i = 0; i < n; i++) data[i] = (next() % 5) - 2;
  else for (let i = 0; i < n; i++) data[i] = unitFloat(next()) * scale;
  return data;
}

/**
 * A seeded float32 tensor of this shape (any rank). `options` may be `true` as a shorthand for `{ integers: true }`.
 * The same shape and seed give the same values in every package and runtime.
 */
export function randomTensor(shape: readonly number[], seed: number, options: RandomOptions | boolean = {}): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: randomArray(size, seed, options), shape: Array.from(shape) };
}
