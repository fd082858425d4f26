import { derived, type KernelConfig } from './config.js';
import { each } from './each.js';

/**
 * The fused kernel's end: out = acc / l (0 for a row without keys), and lse = m + log(l) (-Infinity without keys)
 * when asked; a row the non-finite rule caught gets NaN in both.
 */
export function writeOutWgsl(c: KernelConfig): string {
  const { AN } = derived(c);
  const T = c.TPR;
  return `
  if (rowOk) {
    let oa = b * P.osB + h * P.osH + i * P.osS - P.oBase;
    let inv = select(0.0, 1.0 / l, l > 0.0);
    // A quiet NaN made at run time (a constant NaN is a WGSL compile error).
    let nan = bitcast<f32>(P.negInf | 0x00400000u);
${each(AN, (a) => {
  const d = `${4 * T * a}u + lane * 4u`;
  return `    let od${a} = ${d};
    let o${a} = select(a${a} * inv, vec4<f32>(nan), bad);
    if (od${a} < DV) { O[oa + od${a}] = o${a}.x; }
    if (od${a} + 1u < DV) { O[oa + od${a} + 1u] = o${a}.y; }
    if (od${a} + 2u < DV) { O[oa + od${a} + 2u] = o${a}.z; }
    if (od${a} + 3u < DV) { O[oa + od${a} + 3u] = o${a}.w; }`;
})}
    if (lane == 0u && (P.flags & FLAG_LSE) != 0u) {
      L[(b * P.Hq + h) * P.Sq + i] = select(select(bitcast<f32>(P.negInf), mrun + log(l), l > 0.0), nan, bad);
    }
  }`;
}
