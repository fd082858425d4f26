import { bindingsWgsl } from './bindings.js';
import { headTableWgsl } from './head-table.js';
import { paramsWgsl } from './params.js';

export const LABELS_WG = 64;

/**
 * Where the cluster labels of (b, h) live in aux: Sq query labels, then Sk key labels (keys of h's kv head).
 * Shared by the labels pass that writes them and the fused kernel that reads them.
 */
export const LABEL_LAYOUT_WGSL = `
fn labelsAt(b: u32, h: u32) -> u32 {
  return P.labelOff + (b * P.Hq + h) * (P.Sq + P.Sk);
}
`;

/** The fused kernel's labels: the query row's, read once, and the key block's, staged in workgroup memory. */
export const ROW_LABEL = `
    labQ = aux[labBase + min(i, P.Sq - 1u)];`;

export const STAGE_KEY_LABELS = `
    if (mode == MODE_CLUSTER) {
      for (var x = t; x < BK; x += WG) {
        lt[x] = aux[labBase + P.Sq + min(j0 + x, P.Sk - 1u)];
      }
    }`;

/**
 * The labels pass of the cluster pattern: one thread per token labels a query row (b, h, i) or a key row
 * (b, kv head of h, j) with argmax_c <x, unit_c> (ties to the smaller c), accumulated in float32 in d order.
 * Heads that are not cluster heads exit.
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
  return `${paramsWgsl()}${bindingsWgsl('pass')}${headTableWgsl()}${LABEL_LAYOUT_WGSL}
const D = ${D}u;

@compute @workgroup_size(${LABELS_WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = P.h0 + wid.y;
  let b = P.b0 + wid.z;
  if (headWord(h, HEAD_MODE) != MODE_CLUSTER) {
    return;
  }
  // C unit centroids of D float32 values.
  let C = headWord(h, HEAD_PARAM);
  let co = P.centroidsAt + headWord(h, HEAD_CENTROIDS);
  let tok = P.tokOff + g.x;
  let dst = labelsAt(b, h);
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
