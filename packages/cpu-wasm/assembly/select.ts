// Quickselect over f32 values in place.

/** The value of rank k (0-based, ascending) among a[0 .. n), reordering a. Hoare partition, median-of-three pivot. */
export function selectKth(a: usize, n: i32, k: i32): f32 {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    const x = load<f32>(a + ((<usize>lo) << 2));
    const y = load<f32>(a + ((<usize>mid) << 2));
    const z = load<f32>(a + ((<usize>hi) << 2));
    const pivot = max(min(x, y), min(max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (load<f32>(a + ((<usize>i) << 2)) < pivot) i++;
      while (load<f32>(a + ((<usize>j) << 2)) > pivot) j--;
      if (i <= j) {
        const ti = load<f32>(a + ((<usize>i) << 2));
        store<f32>(a + ((<usize>i) << 2), load<f32>(a + ((<usize>j) << 2)));
        store<f32>(a + ((<usize>j) << 2), ti);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return load<f32>(a + ((<usize>k) << 2));
  }
  return load<f32>(a + ((<usize>k) << 2));
}
