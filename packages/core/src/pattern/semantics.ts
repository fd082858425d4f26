/** Small pieces of pattern semantics shared by the predicate and the compiler (each is the definition). */

/** Index d with offsets[d] <= x < offsets[d + 1], or -1 when x is before 0 or past the last offset (padding). */
export function documentOf(offsets: readonly number[], x: number): number {
  if (x < 0 || x >= offsets[offsets.length - 1]!) return -1;
  let lo = 0;
  let hi = offsets.length - 1; // invariant: offsets[lo] <= x < offsets[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** NATTEN group geometry: number of tokens x in [0, n) with x mod d == r. */
export function groupSize(n: number, d: number, r: number): number {
  return r >= n ? 0 : Math.floor((n - 1 - r) / d) + 1;
}

/**
 * First group index of the non-causal NATTEN window of group index g in a group of `size` tokens:
 * [g - ⌊K/2⌋, g + ⌊K/2⌋ + (K mod 2) - 1] shifted to lie inside [0, size). The window has min(K, size) tokens.
 */
export function neighborhoodStart(g: number, size: number, kernel: number): number {
  if (kernel >= size) return 0;
  const start = g - Math.floor(kernel / 2);
  return Math.min(Math.max(start, 0), size - kernel);
}

/** Sorted, de-duplicated copy of an index list. */
export function sortedSet(list: readonly number[]): Int32Array {
  return Int32Array.from(new Set(list)).sort();
}

/** Whether sorted `list` contains x (binary search). */
export function sortedHas(list: Int32Array, x: number): boolean {
  const n = lowerBound(list, x);
  return n < list.length && list[n] === x;
}

/** First index n with list[n] >= x. */
export function lowerBound(list: ArrayLike<number>, x: number, lo = 0, hi = list.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
