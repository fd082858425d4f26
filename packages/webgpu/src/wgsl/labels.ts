import { HEAD_WORDS, MODE_CLUSTER } from './attention.js';
import { paramsStruct } from './params.js';

export const LABELS_WG = 64;

/**
 * The labels pass of the cluster pattern: one thread per token labels a query row (b, h, i) or a key row
 * (b, kv head of h, j) with argmax_c <x, unit_c> (ties to the smaller c), accumulated in float32 in d order.
 * Labels land in aux at labelOff + (b·Hq + h)·(Sq + Sk) + (i, or Sq + j). Heads that are not cluster heads exit.
 */
export function labelsShader(D: number): string {
  const row = (src: 'Q' | 'K') => `
    for (var c = 0u; c < C; c++) {
      var s = 0.0;
      for (var d = 0u; d < D; d++) {
        s = s + ${src}[a + d] * bitcast<f32>(tab[co + c * D + d]);
      }
      // A NaN product never wins (the bit test survives compilers that assume no NaN).
      if ((bitcast<u32>(s) & 0x7fffffffu) <= 0x7f800000u && s > best) {
        best = s;
        label = c;
      }
    }`;
  return `${paramsStruct()}
const D = ${D}u;
@group(0) @binding(1) var<storage, read> tab: array<u32>;
@group(0) @binding(2) var<storage, read> Q: array<f32>;
@group(0) @binding(3) var<storage, read> K: array<f32>;
@group(0) @binding(7) var<storage, read_write> aux: array<u32>;

@compute @workgroup_size(${LABELS_WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = P.h0 + wid.y;
  let b = P.b0 + wid.z;
  let ht = h * ${HEAD_WORDS}u;
  if (tab[ht + 4u] != ${MODE_CLUSTER}u) {
    return;
  }
  let C = tab[ht + 6u];
  let co = tab[ht + 7u];
  let tok = P.tokOff + g.x;
  let dst = P.labelOff + (b * P.Hq + h) * (P.Sq + P.Sk);
  var best = bitcast<f32>(P.negInf);
  var label = 0u;
  if (tok < P.tokQn) {
    let i = P.tokQ0 + tok;
    let a = b * P.qsB + h * P.qsH + i * P.qsS - P.qBase;
${row('Q')}
    aux[dst + i] = label;
  } else if (tok < P.tokQn + P.tokKn) {
    let j = P.tokK0 + tok - P.tokQn;
    let a = b * P.ksB + (h / P.group) * P.ksH + j * P.ksS - P.kBase;
${row('K')}
    aux[dst + P.Sq + j] = label;
  }
}
`;
}
