import type { KernelConfig } from './config.js';
import { ROW_LABEL, STAGE_KEY_LABELS } from './labels.js';
import { partialsWgsl, STAGE_KEY_BLOCK } from './score-tile.js';
import { ALLOWED_KEYS, accumulateWgsl, READ_V_FLAGS, STAGE_V_TILE, softmaxStartWgsl, vTileDeclsWgsl } from './softmax.js';
import { writeOutWgsl } from './write-out.js';

export function fusedDeclsWgsl(c: KernelConfig): string {
  return `${vTileDeclsWgsl(c)}var<workgroup> lt: array<u32, BK>;\n`;
}

/**
 * The fused kernel's body. Per listed key block: stage K and V tiles (and cluster key labels), every thread
 * computes its partials, then the row's allowed keys (the bit word for partial blocks, the top-k threshold and
 * cut, the cluster label) enter the online softmax.
 */
export function fusedBodyWgsl(c: KernelConfig): string {
  return `
  let u = workgroupUniformLoad(&wgU);
  let mode = u.mode;
  // A top-k row's threshold (order key), tie cut and whether it keeps every candidate; a cluster row's label.
  var tT = 0u;
  var tCut = 0u;
  var tAll = true;
  var labQ = 0u;
  let labBase = labelsAt(b, h);
  if (mode == MODE_TOPK) {
    tT = aux[rowState + STATE_KEY];
    tCut = aux[rowState + STATE_CUT];
    tAll = aux[rowState + STATE_FLAG] == TOPK_ALL;
  } else if (mode == MODE_CLUSTER) {${ROW_LABEL}
  }
${softmaxStartWgsl(c)}
  for (var n = u.first; n < u.end; n++) {
${STAGE_KEY_BLOCK}
${STAGE_V_TILE}
${STAGE_KEY_LABELS}
    workgroupBarrier();
${partialsWgsl(c)}
${READ_V_FLAGS}
${ALLOWED_KEYS}
${accumulateWgsl(c)}
  }
${writeOutWgsl(c)}`;
}
