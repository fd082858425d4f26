/** Bit helpers over rows of 32-bit words (bit c of a row is word c >> 5, bit c & 31). */

/** ORs ones into bits [lo, hi] (inclusive, relative to the row start) of the row at out[off…]. */
export function setBitRange(out: Uint32Array, off: number, lo: number, hi: number): void {
  if (hi < lo) return;
  const wLo = lo >>> 5;
  const wHi = hi >>> 5;
  const maskLo = (0xffffffff << (lo & 31)) >>> 0;
  const maskHi = 0xffffffff >>> (31 - (hi & 31));
  if (wLo === wHi) {
    out[off + wLo]! |= maskLo & maskHi;
    return;
  }
  out[off + wLo]! |= maskLo;
  for (let w = wLo + 1; w < wHi; w++) out[off + w] = 0xffffffff;
  out[off + wHi]! |= maskHi;
}

export function setBit(out: Uint32Array, off: number, c: number): void {
  out[off + (c >>> 5)]! |= 1 << (c & 31);
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Whether bit c of the row at bits[off…] is set. */
export function testBit(bits: Uint32Array, off: number, c: number): boolean {
  return ((bits[off + (c >>> 5)]! >>> (c & 31)) & 1) === 1;
}

const stridePatterns = new Map<number, Uint32Array>();

/** For step <= 32: word masks with bits t, t + step, t + 2·step, … (t = phase) for every phase. */
function patternsFor(step: number): Uint32Array {
  let p = stridePatterns.get(step);
  if (!p) {
    p = new Uint32Array(step);
    for (let phase = 0; phase < step; phase++) {
      let m = 0;
      for (let t = phase; t < 32; t += step) m |= 1 << t;
      p[phase] = m >>> 0;
    }
    stridePatterns.set(step, p);
  }
  return p;
}

/** ORs bits first, first + step, … <= last (relative to the row start) into the row at out[off…], a word at a time. */
export function setStridedBits(out: Uint32Array, off: number, first: number, last: number, step: number): void {
  if (last < first) return;
  if (step > 32) {
    for (let c = first; c <= last; c += step) setBit(out, off, c);
    return;
  }
  const patterns = patternsFor(step);
  const wLo = first >>> 5;
  const wHi = last >>> 5;
  for (let w = wLo; w <= wHi; w++) {
    let mask = patterns[(((first - 32 * w) % step) + step) % step]!;
    if (w === wLo) mask &= 0xffffffff << (first & 31);
    if (w === wHi) mask &= 0xffffffff >>> (31 - (last & 31));
    out[off + w]! |= mask;
  }
}
