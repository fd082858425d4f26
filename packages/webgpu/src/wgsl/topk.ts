import { derived, type KernelConfig } from './config.js';

/**
 * The top-k selection passes, run before the fused kernel. Each radix pass (P.radix = 0 … NP-1) builds a histogram
 * of the next RB-bit digit of the candidates' order keys per row and keeps the digit where the k-th largest falls;
 * the tie pass then finds the cut among keys equal to the threshold (the quota-th one, by increasing j).
 */
export function topkDeclsWgsl(c: KernelConfig, kernel: 'hist' | 'tie'): string {
  const { NB } = derived(c);
  return kernel === 'hist' ? `var<workgroup> hist: array<atomic<u32>, ${c.BQ * NB}>;\n` : 'var<workgroup> tieRows: atomic<u32>;\n';
}

/** Adds the row's live candidates of the staged block to its histogram (the keys whose high digits match so far). */
const COUNT_DIGITS = `
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
    }`;

/**
 * After the blocks: the digit where the quota falls (from the largest digit down). A row with at most k candidates
 * keeps them all (found in the first pass).
 */
const PICK_DIGIT = `
  if (lane == 0u && live) {
    var kRem = aux[rowState + STATE_QUOTA];
    if (ps == 0u) {
      kRem = headWord(h, HEAD_PARAM);
      var total = 0u;
      for (var d = 0u; d < NB; d++) {
        total = total + atomicLoad(&hist[r * NB + d]);
      }
      if (total <= kRem) {
        aux[rowState + STATE_KEY] = 0u;
        aux[rowState + STATE_QUOTA] = 0u;
        aux[rowState + STATE_FLAG] = TOPK_ALL;
        aux[rowState + STATE_CUT] = 0xffffffffu;
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
    aux[rowState + STATE_KEY] = (prefix << RB) | digit;
    aux[rowState + STATE_QUOTA] = kRem;
    aux[rowState + STATE_CUT] = 0xffffffffu;
    if (ps + 1u < NP) {
      aux[rowState + STATE_FLAG] = TOPK_RADIX;
    } else if (kRem == count) {
      aux[rowState + STATE_FLAG] = TOPK_DONE;
    } else {
      aux[rowState + STATE_FLAG] = TOPK_TIE;
    }
  }`;

/** The radix pass's body; `scoreBlock` stages a block and leaves its partials ready for score(). */
export function histBodyWgsl(scoreBlock: string): string {
  return `
  for (var x = t; x < BQ * NB; x += WG) {
    atomicStore(&hist[x], 0u);
  }
  let u = workgroupUniformLoad(&wgU);
  if (u.mode != MODE_TOPK) {
    return;
  }
  let ps = P.radix;
  var prefix = 0u;
  var live = rowOk;
  if (ps > 0u) {
    prefix = aux[rowState + STATE_KEY];
    live = rowOk && aux[rowState + STATE_FLAG] == TOPK_RADIX;
  }
  for (var n = u.first; n < u.end; n++) {
${scoreBlock}
${COUNT_DIGITS}
  }
  workgroupBarrier();
${PICK_DIGIT}`;
}

/** The tie pass's body: only workgroups with a row that needs a cut scan their blocks. */
export function tieBodyWgsl(scoreBlock: string): string {
  return `
  if (t == 0u) {
    atomicStore(&tieRows, 0u);
  }
  workgroupBarrier();
  var need = false;
  if (lane == 0u && rowOk && headWord(h, HEAD_MODE) == MODE_TOPK) {
    need = aux[rowState + STATE_FLAG] == TOPK_TIE;
    if (need) {
      atomicAdd(&tieRows, 1u);
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    wgU.ties = atomicLoad(&tieRows);
  }
  let u = workgroupUniformLoad(&wgU);
  if (u.ties == 0u) {
    return;
  }
  var thr = 0u;
  var quota = 0u;
  if (need) {
    thr = aux[rowState + STATE_KEY];
    quota = aux[rowState + STATE_QUOTA];
  }
  var seen = 0u;
  var cut = 0xffffffffu;
  var found = false;
  for (var n = u.first; n < u.end; n++) {
${scoreBlock}
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
    aux[rowState + STATE_CUT] = cut;
    aux[rowState + STATE_FLAG] = TOPK_DONE;
  }`;
}
