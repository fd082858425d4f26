import { derived, type KernelConfig } from './config.js';
import { each } from './each.js';

/**
 * The fused kernel's online softmax: a running max, sum and rescaled accumulator (a0… vec4s, this thread's strided
 * slice of the row's output) in registers, over the V tiles staged per key block.
 */
export function vTileDeclsWgsl(c: KernelConfig): string {
  const { DVP4 } = derived(c);
  return `
var<workgroup> vt: array<vec4<f32>, ${c.BK * DVP4}>;
// Bit jj: key jj of the staged V tile has a non-finite value. Two words used by block parity, so one can be
// cleared while the other is read without an extra barrier.
var<workgroup> vbad: array<atomic<u32>, 2>;
`;
}

export function softmaxStartWgsl(c: KernelConfig): string {
  const { AN } = derived(c);
  return `
${each(AN, (a) => `  var a${a} = vec4<f32>(0.0);`)}
  var mrun = NEG;
  var l = 0.0;
  // The non-finite rule: a non-finite score of a key the row depends on, or a non-finite v of a kept key.
  var bad = false;
  if (t == 0u) {
    atomicStore(&vbad[0], 0u);
    atomicStore(&vbad[1], 0u);
  }`;
}

/** Stages the block's V tile (zeros past Sk and Dv) and marks its keys with a non-finite v in vbad[par]. */
export const STAGE_V_TILE = `
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
    }`;

/** After the partials: the other parity's vbad word is cleared for the next block, this one's read. */
export const READ_V_FLAGS = `
    if (t == 0u) {
      atomicStore(&vbad[1u - par], 0u);
    }
    workgroupBarrier();
    let vbadBits = atomicLoad(&vbad[par]);`;

/**
 * Pass 1 over the block: which keys are allowed (one bit each, BK <= 32) and their maximum score. Keys with a
 * non-finite score or v are left out of the softmax; they only set \`bad\`. A top-k row keeps the keys above its
 * threshold and those equal to it up to the cut; a cluster row the keys of its own cluster.
 */
export const ALLOWED_KEYS = `
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
    }`;

/** Pass 2: rescale once, then accumulate exp(s - m) · v over the allowed keys. */
export function accumulateWgsl(c: KernelConfig): string {
  const { AN } = derived(c);
  const T = c.TPR;
  return `
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
    }`;
}
