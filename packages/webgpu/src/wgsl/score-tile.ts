import { derived, type KernelConfig } from './config.js';
import { each } from './each.js';

/**
 * Scores of a key block, the same in every attention kernel (the top-k passes rely on bit-identical float32
 * scores): the block's K tile is staged in workgroup memory as vec4 rows, every thread takes the partial dot of
 * its q slice with each key, and a row's TPR lanes' partials are summed in lane order.
 */
export function scoreTileWgsl(c: KernelConfig): string {
  const { DP4, WG } = derived(c);
  const P4 = c.TPR / 4; // vec4s of one row's partial sums
  return `
var<workgroup> kt: array<vec4<f32>, ${c.BK * DP4}>;
// Partial dot products: key jj, thread t at part[jj * WG / 4 + t / 4][t % 4].
var<workgroup> part: array<vec4<f32>, ${(c.BK * WG) / 4}>;

// Stages the K tile of keys [j0, j0 + BK) of kv head hk (zeros past Sk and past D).
fn loadK(b: u32, hk: u32, j0: u32, t: u32) {
  for (var x = t; x < BK * DP4; x += WG) {
    let jj = x / DP4;
    let d = (x - jj * DP4) * 4u;
    let j = j0 + jj;
    let ok = j < P.Sk;
    let a = b * P.ksB + hk * P.ksH + min(j, P.Sk - 1u) * P.ksS - P.kBase;
    kt[x] = vec4<f32>(
      pick(K[a + min(d, D - 1u)], ok && d < D),
      pick(K[a + min(d + 1u, D - 1u)], ok && d + 1u < D),
      pick(K[a + min(d + 2u, D - 1u)], ok && d + 2u < D),
      pick(K[a + min(d + 3u, D - 1u)], ok && d + 3u < D));
  }
}

// The score of key jj of row r: the TPR lane partials summed in lane order, then scaled.
fn score(jj: u32, r: u32) -> f32 {
  let base = jj * (WG / 4u) + r * ${P4}u;
${each(P4, (n) => `  let p${n} = part[base + ${n}u];`)}
  var s = p0.x;
  s = s + p0.y;
  s = s + p0.z;
  s = s + p0.w;
${each(P4 - 1, (n) => `  s = s + p${n + 1}.x;\n  s = s + p${n + 1}.y;\n  s = s + p${n + 1}.z;\n  s = s + p${n + 1}.w;`)}
  return s * P.scale;
}
`;
}

/**
 * Inside a kernel's loop over the row's listed blocks (n): the block's first key j0, this row's bit word (all ones
 * for a full block) and the staged K tile. The caller puts a barrier before the partials read the tile.
 */
export const STAGE_KEY_BLOCK = `
    let kb = tab[colOff + n];
    let pi = bitcast<i32>(tab[partOff + n]);
    let j0 = kb * BK;
    var word = 0xffffffffu;
    if (pi >= 0) {
      word = tab[bitsOff + u32(pi) * BQ + r];
    }
    workgroupBarrier();
    loadK(b, hk, j0, t);`;

/** This thread's partial dot products with every key of the staged tile, in the same order in every kernel. */
export function partialsWgsl(c: KernelConfig): string {
  const { QN } = derived(c);
  const T = c.TPR;
  return `
    for (var jj = 0u; jj < BK; jj++) {
      let kb0 = jj * DP4 + lane;
      var p = dot(q0, kt[kb0]);
${each(QN - 1, (m) => `      p = p + dot(q${m + 1}, kt[kb0 + ${T * (m + 1)}u]);`)}
      part[jj * (WG / 4u) + t / 4u][t % 4u] = p;
    }`;
}
