/** Float helpers every attention kernel shares. */
export function numericsWgsl(): string {
  return `
// Order-preserving map of a float32 score to u32 (-0 counts as +0, as float comparison does).
fn orderKey(s: f32) -> u32 {
  let b = bitcast<u32>(select(s, 0.0, s == 0.0));
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// x where ok, else 0 (the loads are clamped in range, so both sides are safe).
fn pick(x: f32, ok: bool) -> f32 {
  return select(0.0, x, ok);
}

// Non-finite tests on the bits (exponent all ones): compilers may assume floats are never NaN or Inf.
fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn finite4(x: vec4<f32>) -> bool {
  return all((bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u));
}
`;
}
