import { type BindingSet, bindingsWgsl } from './bindings.js';
import { derived, type KernelConfig } from './config.js';
import { fusedBodyWgsl, fusedDeclsWgsl } from './fused.js';
import { headTableWgsl } from './head-table.js';
import { LABEL_LAYOUT_WGSL } from './labels.js';
import { numericsWgsl } from './numerics.js';
import { paramsWgsl } from './params.js';
import { ROW_BLOCKS_WGSL, rowSetupWgsl } from './row-setup.js';
import { rowStateWgsl } from './row-state.js';
import { partialsWgsl, STAGE_KEY_BLOCK, scoreTileWgsl } from './score-tile.js';
import { histBodyWgsl, tieBodyWgsl, topkDeclsWgsl } from './topk.js';

export type AttentionKernel = 'main' | 'hist' | 'tie';

const BINDING_SET: Record<AttentionKernel, BindingSet> = { main: 'main', hist: 'pass', tie: 'pass' };

/** The compile-time sizes of a configuration as WGSL constants. */
function configWgsl(c: KernelConfig): string {
  const { DP4, DVP4, WG, NB, NP } = derived(c);
  return `const BQ = ${c.BQ}u;
const BK = ${c.BK}u;
const TPR = ${c.TPR}u;
const WG = ${WG}u;
const D = ${c.D}u;
const DP4 = ${DP4}u;
const DV = ${c.Dv}u;
const DVP4 = ${DVP4}u;
const RB = ${c.RB}u;
const NB = ${NB}u;
const NP = ${NP}u;
const NEG = -3.0e38;
`;
}

/**
 * Generates the WGSL of one kernel of the fused block-sparse attention, from the pieces every kernel shares
 * (params, bindings, the head table, the row's setup, the score tile) and its own body:
 *
 * - `main`: the fused kernel (fused.ts): online softmax over the row's listed key blocks.
 * - `hist`: one radix pass of the top-k threshold (topk.ts); the same score code as `main`, so both see
 *   bit-identical float32 scores.
 * - `tie`: the tie cut of the rows that need one (topk.ts).
 *
 * The thread's q slice (q0…) and accumulator (a0…) are separate vec4 values with their loops written out, so they
 * stay in registers on every compiler.
 */
export function attentionShader(c: KernelConfig, kernel: AttentionKernel): string {
  // A key block's scores: staged K tile, barrier, partials, barrier (the fused kernel interleaves its V tile).
  const scoreBlock = `${STAGE_KEY_BLOCK}\n    workgroupBarrier();\n${partialsWgsl(c)}\n    workgroupBarrier();`;
  const decls = kernel === 'main' ? fusedDeclsWgsl(c) : topkDeclsWgsl(c, kernel);
  const body = kernel === 'main' ? fusedBodyWgsl(c) : kernel === 'hist' ? histBodyWgsl(scoreBlock) : tieBodyWgsl(scoreBlock);
  return `${paramsWgsl()}${configWgsl(c)}${headTableWgsl()}${rowStateWgsl()}${LABEL_LAYOUT_WGSL}
${bindingsWgsl(BINDING_SET[kernel])}${decls}${ROW_BLOCKS_WGSL}${scoreTileWgsl(c)}${numericsWgsl()}
@compute @workgroup_size(${derived(c).WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
${rowSetupWgsl(c)}${body}
}
`;
}
