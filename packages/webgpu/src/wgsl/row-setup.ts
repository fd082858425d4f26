import { derived, type KernelConfig } from './config.js';
import { each } from './each.js';

/**
 * What every attention kernel knows about its row: a workgroup owns BQ query rows of one (batch, head) and TPR
 * threads share a row. Thread 0 reads the head's mode and the range of the query block's listed key blocks into
 * workgroup memory (read back uniformly: every thread loops over the same blocks).
 */
export const ROW_BLOCKS_WGSL = `
struct RowBlocks {
  mode: u32,
  // The query block's listed key blocks: entries [first, end) of the head's colIdx section.
  first: u32,
  end: u32,
  // tie kernel: rows of the workgroup that need a tie cut.
  ties: u32,
}
var<workgroup> wgU: RowBlocks;
`;

/** The kernels' prologue: indices, the head's mask sections, this thread's q slice (q0… vec4s) and the row state. */
export function rowSetupWgsl(c: KernelConfig): string {
  const { QN } = derived(c);
  const T = c.TPR;
  return `
  let r = t / TPR;
  let lane = t - r * TPR;
  let qb = P.qb0 + wid.x;
  let h = P.h0 + wid.y;
  let b = P.b0 + wid.z;
  let hk = h / P.group;
  let i = qb * BQ + r;
  let rowOk = i < P.Sq;
  if (t == 0u) {
    let rp = P.rowPtrAt + headWord(h, HEAD_ROW_PTR);
    wgU = RowBlocks(headWord(h, HEAD_MODE), tab[rp + qb], tab[rp + qb + 1u], 0u);
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
  // The head's mask: colIdx and partialIdx run in parallel (one head offset for both).
  let colOff = P.colIdxAt + headWord(h, HEAD_COL_IDX);
  let partOff = P.partialIdxAt + headWord(h, HEAD_COL_IDX);
  let bitsOff = P.bitsAt + headWord(h, HEAD_BITS);
  let rowState = rowStateAt(b, h, i);
`;
}
