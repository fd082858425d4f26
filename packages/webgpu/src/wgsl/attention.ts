import { derived, type KernelConfig } from './config.js';
import { paramsStruct } from './params.js';

/** Head-table entry (8 u32 per query head at the start of the meta buffer). */
export const HEAD_WORDS = 8;
export const MODE_STATIC = 0;
export const MODE_TOPK = 1;
export const MODE_CLUSTER = 2;

/** Top-k row state flags (aux[state + 2]). */
export const TOPK_RADIX = 1;
export const TOPK_ALL = 2;
export const TOPK_TIE = 3;
export const TOPK_DONE = 4;

export type AttentionKernel = 'main' | 'hist' | 'tie';

const each = (n: number, line: (m: number) => string) => Array.from({ length: n }, (_, m) => line(m)).join('\n');

/**
 * Generates the WGSL of one kernel of the fused block-sparse attention.
 *
 * - `main`: the fused kernel. Per listed key block: stage K and V tiles (vec4 rows), every thread computes the
 *   partial dot of its q slice with each key, the row's lanes sum the partials in a fixed order, bits are tested
 *   only for partial blocks, then an online softmax (running max, sum, rescaled accumulator) in registers.
 * - `hist`: one radix pass of the top-k threshold (digit histogram per row in workgroup memory); the same score
 *   code as `main`, so both see bit-identical float32 scores.
 * - `tie`: finds the tie cut (the quota-th key, by increasing j, whose score equals the threshold) for rows that
 *   need one.
 *
 * The thread's q slice (q0…) and accumulator (a0…) are separate vec4 values with their loops written out, so they
 * stay in registers on every compiler.
 */
export function attentionShader(c: KernelConfig, kernel: AttentionKernel): string {
  const { QN, AN, DP4, DVP4, WG, NB, NP } = derived(c);
  const T = c.TPR;
  const P4 = T / 4; // vec4s of one row's partial sums
  const head = `${paramsStruct()}
const BQ = ${c.BQ}u;
const BK = ${c.BK}u;
const TPR = ${T}u;
const WG = ${WG}u;
const D = ${c.D}u;
const DP4 = ${DP4}u;
const DV = ${c.Dv}u;
const DVP4 = ${DVP4}u;
const RB = ${c.RB}u;
const NB = ${NB}u;
const NP = ${NP}u;
const NEG = -3.0e38;
const HEAD_WORDS = ${HEAD_WORDS}u;
const MODE_TOPK = ${MODE_TOPK}u;
const MODE_CLUSTER = ${MODE_CLUSTER}u;
const TOPK_RADIX = ${TOPK_RADIX}u;
const TOPK_ALL = ${TOPK_ALL}u;
const TOPK_TIE = ${TOPK_TIE}u;
const TOPK_DONE = ${TOPK_DONE}u;

@group(0) @binding(1) var<storage, read> tab: array<u32>;
@group(0) @binding(2) var<storage, read> Q: array<f32>;
@group(0) @binding(3) var<storage, read> K: array<f32>;
${
  kernel === 'main'
    ? `@group(0) @binding(4) var<storage, read> V: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;
@group(0) @binding(6) var<storage, read_write> L: array<f32>;
@group(0) @binding(7) var<storage, read> aux: array<u32>;
var<workgroup> vt: array<vec4<f32>, ${c.BK * DVP4}>;
var<workgroup> lt: array<u32, BK>;
// Bit jj: key jj of the staged V tile has a non-finite value. Two words used by block parity, so one can be
// cleared while the other is read without an extra barrier.
var<workgroup> vbad: array<atomic<u32>, 2>;`
    : '@group(0) @binding(7) var<storage, read_write> aux: array<u32>;'
}
${kernel === 'hist' ? `var<workgroup> hist: array<atomic<u32>, ${c.BQ * NB}>;` : ''}
${kernel === 'tie' ? 'var<workgroup> tieRows: atomic<u32>;' : ''}
var<workgroup> kt: array<vec4<f32>, ${c.BK * DP4}>;
// Partial dot products: key jj, thread t at part[jj * WG / 4 + t / 4][t % 4].
var<workgroup> part: array<vec4<f32>, ${(c.BK * WG) / 4}>;
var<workgroup> wgU: vec4<u32>;

// Order-preserving map of a float32 score to u32 (-0 counts as +0, as float comparison does).
fn orderKey(s: f32) -> u32 {
  let b = bitcast<u32>(select(s, 0.0, s == 0.0));
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// The score of key jj of row r: the TPR lane partials summed in lane order, then scaled. Shared by every kernel.
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
`;

  const setup = `
  let r = t / TPR;
  let lane = t - r * TPR;
  let qb = P.qb0 + wid.x;
  let h = P.h0 + wid.y;
  let b = P.b0 + wid.z;
  let hk = h / P.group;
  let ht = h * HEAD_WORDS;
  let i = qb * BQ + r;
  let rowOk = i < P.Sq;
  if (t == 0u) {
    let rp = tab[ht];
    wgU = vec4<u32>(tab[ht + 4u], tab[rp + qb], tab[rp + qb + 1u], 0u);
  }
  let qa = b * P.qsB + h * P.qsH + min(i, P.Sq - 1u) * P.qsS - P.qBase;
${each(QN, (m) => {
  const d = `${4 * T * m}u + lane * 4u`;
  return `  let qd${m} = ${d};
  let q${m} = vec4<f32>(
    pick(Q[qa + min(qd${m}, D - 1u)], rowOk && qd${m} < D),
    pick(Q[qa + min(qd${m} + 1u, D - 1u)], rowOk && qd${m} + 1u < D),
    pick(Q[qa + min(qd${m} + 2u, D - 1u)], rowOk && qd${m} + 2u < D),
    pick(Q[qa + min(qd${m} + 3u, D - 1u)], rowOk && qd${m} + 3u < D));`;
})}
  let colOff = tab[ht + 1u];
  let partOff = tab[ht + 2u];
  let bitsOff = tab[ht + 3u];
  let rowState = P.stateOff + ((b * P.Hq + h) * P.Sq + min(i, P.Sq - 1u)) * 4u;
`;

  // Per block: the column, its bit word for this row (all ones for a full block) and the staged K tile.
  const blockHead = `
    let kb = tab[colOff + n];
    let pi = bitcast<i32>(tab[partOff + n]);
    let j0 = kb * BK;
    var word = 0xffffffffu;
    if (pi >= 0) {
      word = tab[bitsOff + u32(pi) * BQ + r];
    }
    workgroupBarrier();
    loadK(b, hk, j0, t);`;

  // Partial dot products of this thread's q slice with every key of the staged tile, in the same order in every
  // kernel (the top-k passes rely on bit-identical scores).
  const partials = `
    for (var jj = 0u; jj < BK; jj++) {
      let kb0 = jj * DP4 + lane;
      var p = dot(q0, kt[kb0]);
${each(QN - 1, (m) => `      p = p + dot(q${m + 1}, kt[kb0 + ${T * (m + 1)}u]);`)}
      part[jj * (WG / 4u) + t / 4u][t % 4u] = p;
    }`;

  const main = `
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
${setup}
  let u = workgroupUniformLoad(&wgU);
  let mode = u.x;
  var tT = 0u;
  var tCut = 0u;
  var tAll = true;
  var labQ = 0u;
  let labBase = P.labelOff + (b * P.Hq + h) * (P.Sq + P.Sk);
  if (mode == MODE_TOPK) {
    tT = aux[rowState];
    tCut = aux[rowState + 3u];
    tAll = aux[rowState + 2u] == TOPK_ALL;
  } else if (mode == MODE_CLUSTER) {
    labQ = aux[labBase + min(i, P.Sq - 1u)];
  }
${each(AN, (a) => `  var a${a} = vec4<f32>(0.0);`)}
  var mrun = NEG;
  var l = 0.0;
  // The non-finite rule: a non-finite score of a key the row depends on, or a non-finite v of a kept key.
  var bad = false;
  if (t == 0u) {
    atomicStore(&vbad[0], 0u);
    atomicStore(&vbad[1], 0u);
  }
  for (var n = u.y; n < u.z; n++) {
${blockHead}
    let par = n & 1u;
    for (var x = t; x < BK * DVP4; x += WG) {
      let jj = x / DVP4;
      let d = (x - jj * DVP4) * 4u;
      let j = j0 + jj;
      let ok = j < P.Sk;
      let a = b * P.vsB + hk * P.vsH + min(j, P.Sk - 1u) * P.vsS - P.vBase;
      let vv = vec4<f32>(
        pick(V[a + min(d, DV - 1u)], ok && d < DV),
        pick(V[a + min(d + 1u, DV - 1u)], ok && d + 1u < DV),
        pick(V[a + min(d + 2u, DV - 1u)], ok && d + 2u < DV),
        pick(V[a + min(d + 3u, DV - 1u)], ok && d + 3u < DV));
      vt[x] = vv;
      if (!finite4(vv)) {
        atomicOr(&vbad[par], 1u << jj);
      }
    }
    if (mode == MODE_CLUSTER) {
      for (var x = t; x < BK; x += WG) {
        lt[x] = aux[labBase + P.Sq + min(j0 + x, P.Sk - 1u)];
      }
    }
    workgroupBarrier();
${partials}
    if (t == 0u) {
      atomicStore(&vbad[1u - par], 0u);
    }
    workgroupBarrier();
    let vbadBits = atomicLoad(&vbad[par]);
    // Pass 1 over the block: which keys are allowed (one bit each, BK <= 32) and their maximum score. Keys with a
    // non-finite score or v are left out of the softmax; they only set \`bad\`.
    var okBits = 0u;
    var bm = NEG;
    for (var jj = 0u; jj < BK; jj++) {
      let j = j0 + jj;
      let s = score(jj, r);
      var ok = rowOk && j < P.Sk && ((word >> jj) & 1u) == 1u;
      if (mode == MODE_TOPK) {
        // Every candidate's score counts: the ranking reads them all.
        bad = bad || (ok && !finite(s));
        let o = orderKey(s);
        ok = ok && (tAll || o > tT || (o == tT && j <= tCut));
      } else if (mode == MODE_CLUSTER) {
        ok = ok && lt[jj] == labQ;
      }
      if (ok) {
        if (finite(s) && ((vbadBits >> jj) & 1u) == 0u) {
          okBits = okBits | (1u << jj);
          bm = max(bm, s);
        } else {
          bad = true;
        }
      }
    }
    // Pass 2: rescale once, then accumulate exp(s - m) · v over the allowed keys.
    if (okBits != 0u) {
      let mnew = max(mrun, bm);
      let corr = exp(mrun - mnew);
      l = l * corr;
${each(AN, (a) => `      a${a} = a${a} * corr;`)}
      for (var jj = 0u; jj < BK; jj++) {
        if (((okBits >> jj) & 1u) == 1u) {
          let p = exp(score(jj, r) - mnew);
          l = l + p;
          let vb = jj * DVP4 + lane;
${each(AN, (a) => `          a${a} = a${a} + p * vt[vb + ${T * a}u];`)}
        }
      }
      mrun = mnew;
    }
  }
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
    if (lane == 0u && (P.flags & 1u) != 0u) {
      L[(b * P.Hq + h) * P.Sq + i] = select(select(bitcast<f32>(P.negInf), mrun + log(l), l > 0.0), nan, bad);
    }
  }
}
`;

  const hist = `
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
${setup}
  for (var x = t; x < BQ * NB; x += WG) {
    atomicStore(&hist[x], 0u);
  }
  let u = workgroupUniformLoad(&wgU);
  if (u.x != MODE_TOPK) {
    return;
  }
  let ps = P.radix;
  var prefix = 0u;
  var live = rowOk;
  if (ps > 0u) {
    prefix = aux[rowState];
    live = rowOk && aux[rowState + 2u] == TOPK_RADIX;
  }
  for (var n = u.y; n < u.z; n++) {
${blockHead}
    workgroupBarrier();
${partials}
    workgroupBarrier();
    for (var jj = lane; jj < BK; jj += TPR) {
      let j = j0 + jj;
      if (live && j < P.Sk && ((word >> jj) & 1u) == 1u) {
        let o = orderKey(score(jj, r));
        var hit = true;
        if (ps > 0u) {
          hit = (o >> (32u - RB * ps)) == prefix;
        }
        if (hit) {
          atomicAdd(&hist[r * NB + ((o >> (32u - RB * (ps + 1u))) & (NB - 1u))], 1u);
        }
      }
    }
  }
  workgroupBarrier();
  if (lane == 0u && live) {
    var kRem = aux[rowState + 1u];
    if (ps == 0u) {
      kRem = tab[ht + 5u];
      var total = 0u;
      for (var d = 0u; d < NB; d++) {
        total = total + atomicLoad(&hist[r * NB + d]);
      }
      if (total <= kRem) {
        aux[rowState] = 0u;
        aux[rowState + 1u] = 0u;
        aux[rowState + 2u] = TOPK_ALL;
        aux[rowState + 3u] = 0xffffffffu;
        return;
      }
    }
    var cum = 0u;
    var digit = 0u;
    var count = 0u;
    for (var dd = NB; dd > 0u; dd--) {
      let c = atomicLoad(&hist[r * NB + dd - 1u]);
      if (cum + c >= kRem) {
        digit = dd - 1u;
        count = c;
        break;
      }
      cum = cum + c;
    }
    kRem = kRem - cum;
    aux[rowState] = (prefix << RB) | digit;
    aux[rowState + 1u] = kRem;
    aux[rowState + 3u] = 0xffffffffu;
    if (ps + 1u < NP) {
      aux[rowState + 2u] = TOPK_RADIX;
    } else if (kRem == count) {
      aux[rowState + 2u] = TOPK_DONE;
    } else {
      aux[rowState + 2u] = TOPK_TIE;
    }
  }
}
`;

  const tie = `
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
${setup}
  if (t == 0u) {
    atomicStore(&tieRows, 0u);
  }
  workgroupBarrier();
  var need = false;
  if (lane == 0u && rowOk && tab[ht + 4u] == MODE_TOPK) {
    need = aux[rowState + 2u] == TOPK_TIE;
    if (need) {
      atomicAdd(&tieRows, 1u);
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    wgU.w = atomicLoad(&tieRows);
  }
  let u = workgroupUniformLoad(&wgU);
  if (u.w == 0u) {
    return;
  }
  var thr = 0u;
  var quota = 0u;
  if (need) {
    thr = aux[rowState];
    quota = aux[rowState + 1u];
  }
  var seen = 0u;
  var cut = 0xffffffffu;
  var found = false;
  for (var n = u.y; n < u.z; n++) {
${blockHead}
    workgroupBarrier();
${partials}
    workgroupBarrier();
    if (need && !found) {
      for (var jj = 0u; jj < BK; jj++) {
        let j = j0 + jj;
        if (j < P.Sk && ((word >> jj) & 1u) == 1u && orderKey(score(jj, r)) == thr) {
          seen = seen + 1u;
          if (seen == quota) {
            cut = j;
            found = true;
            break;
          }
        }
      }
    }
  }
  if (need) {
    aux[rowState + 3u] = cut;
    aux[rowState + 2u] = TOPK_DONE;
  }
}
`;
  return head + (kernel === 'main' ? main : kernel === 'hist' ? hist : tie);
}
