// The multiply-add of the kernels, one source for both builds: `a · b + c` on four f32 lanes.
//
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant (asc `--enable relaxed-simd`), so each build holds only one
// branch: the relaxed build (dist/relaxed/*.wasm) emits f32x4.relaxed_madd, which the engine runs as one fused
// multiply-add where the CPU has FMA (rounded once) and as multiply then add elsewhere; the SIMD128 build
// (dist/*.wasm) emits f32x4.mul then f32x4.add (rounded twice). Either way a non-finite operand gives the same
// non-finite result, and one build gives the same bits wherever it calls this, so the top-k pass and the fused kernel
// still agree bit for bit.
//
// Relaxed min/max are not used: the softmax's running maximum is f32x4.pmax, already one instruction on x86, whose
// NaN behaviour (a NaN score never wins) the non-finite rule relies on; relaxed_max leaves NaN implementation-defined.

/** a · b + c: fused where the relaxed build runs on a CPU with FMA. (Small enough that -O3 inlines it everywhere.) */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
