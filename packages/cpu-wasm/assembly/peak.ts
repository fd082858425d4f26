// Micro-benchmark of this machine's f32 SIMD throughput for the build it is compiled into: the multiply-add of the
// kernels (a = a · x + y through madd: one f32x4.relaxed_madd in the relaxed build, f32x4.mul then f32x4.add in the
// SIMD128 one; 8 flops either way) on twelve independent accumulators, so the loop is bound by the floating-point
// units, not by latency. Returns a checksum so the work cannot be optimised away.
import { madd } from './madd';

export function peak(iters: i32, x: f32, y: f32): f32 {
  const xv = f32x4.splat(x);
  const yv = f32x4.splat(y);
  let a0 = f32x4.splat(1.0);
  let a1 = f32x4.splat(1.1);
  let a2 = f32x4.splat(1.2);
  let a3 = f32x4.splat(1.3);
  let a4 = f32x4.splat(1.4);
  let a5 = f32x4.splat(1.5);
  let a6 = f32x4.splat(1.6);
  let a7 = f32x4.splat(1.7);
  let a8 = f32x4.splat(1.8);
  let a9 = f32x4.splat(1.9);
  let a10 = f32x4.splat(2.0);
  let a11 = f32x4.splat(2.1);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, xv, yv);
    a1 = madd(a1, xv, yv);
    a2 = madd(a2, xv, yv);
    a3 = madd(a3, xv, yv);
    a4 = madd(a4, xv, yv);
    a5 = madd(a5, xv, yv);
    a6 = madd(a6, xv, yv);
    a7 = madd(a7, xv, yv);
    a8 = madd(a8, xv, yv);
    a9 = madd(a9, xv, yv);
    a10 = madd(a10, xv, yv);
    a11 = madd(a11, xv, yv);
  }
  let s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** Flops of one iteration of `peak`: 12 accumulators × (multiply + add) × 4 lanes. */
export const PEAK_FLOPS_PER_ITER: i32 = 96;
