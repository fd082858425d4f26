// Helpers of the development scripts in this folder.

/** A number from the environment variable `k`, else `d`. */
export const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);

/** n uniform values in [-0.5, 0.5) from a linear congruential generator seeded with `seed`. */
export function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}
