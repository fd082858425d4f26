import { randomTensor } from '@sparse/conformance/testing';

/** The shared seeded data of this shape as an .npy array of `dtype` (float64 holds the same float32 values). */
export function npyTensor(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32') {
  const { data } = randomTensor(shape, seed);
  return { dtype, shape, data: dtype === 'float32' ? data : Float64Array.from(data) } as const;
}
