// Storage rounding of the addon's host conversion (native/convert.cc), as float32 values: what a bf16 or f16
// tensor holds after an upload.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 of x, round to nearest even (convert.cc floatToBf16). */
export function roundBf16(x: number): number {
  f32[0] = x;
  if ((u32[0]! & 0x7fffffff) > 0x7f800000) return f32[0]!;
  u32[0] = ((u32[0]! + 0x7fff + ((u32[0]! >>> 16) & 1)) >>> 16) << 16;
  return f32[0]!;
}

/** f16 of x, round to nearest even, as a float32 value. */
export function roundF16(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (!Number.isFinite(a)) return Math.fround(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  const exp = a < 2 ** -14 ? -14 : Math.floor(Math.log2(a));
  const ulp = 2 ** (exp - 10);
  const q = a / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q)) === 0.5) r = 2 * Math.round(q / 2);
  return Math.sign(x) * r * ulp;
}

/** Rounds to the storage type of a precision code (0 float32, 1 bf16, 2 f16). */
export const roundTo = (dtype: number, data: Float32Array): Float32Array =>
  dtype === 0 ? Float32Array.from(data) : data.map(dtype === 1 ? roundBf16 : roundF16);
