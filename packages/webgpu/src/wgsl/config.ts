/**
 * Compile-time shape of the fused kernel. A workgroup owns BQ query rows of one (batch, head); TPR threads share a
 * row, each holding a strided slice of q and of the output accumulator as vec4s; key/value blocks of BK keys are
 * staged in workgroup memory as vec4 rows. BK <= 32 so a row of a partial block's bit tile is one u32 word.
 * TPR is 4, 8 or 16 (a multiple of 4, so the row's partial sums are whole vec4s).
 */
export interface KernelConfig {
  D: number;
  Dv: number;
  BQ: number;
  BK: number;
  TPR: number;
  /** Radix digit width (bits) of the top-k selection passes: 8 (4 passes) or 4 (8 passes). */
  RB: number;
}

export const MAX_BLOCK_K = 32;

export function derived(c: KernelConfig) {
  /** vec4s of q (and k) per thread, and of the accumulator (and v). */
  const QN = Math.ceil(Math.ceil(c.D / 4) / c.TPR);
  const AN = Math.ceil(Math.ceil(c.Dv / 4) / c.TPR);
  return {
    QN,
    AN,
    /** vec4s per staged key / value row (padded with zeros). */
    DP4: QN * c.TPR,
    DVP4: AN * c.TPR,
    WG: c.BQ * c.TPR,
    NB: 1 << c.RB,
    NP: 32 / c.RB,
  };
}

/** Workgroup memory (bytes) of each kernel of a configuration. */
export function workgroupBytes(c: KernelConfig): { main: number; hist: number; tie: number } {
  const { DP4, DVP4, WG, NB } = derived(c);
  const scratch = 16 + 4;
  const tie = 16 * c.BK * DP4 + 4 * c.BK * WG + scratch;
  return { main: tie + 16 * c.BK * DVP4 + 4 * c.BK, hist: tie + 4 * c.BQ * NB, tie };
}

export function configKey(c: KernelConfig): string {
  return `D${c.D}.Dv${c.Dv}.q${c.BQ}.k${c.BK}.t${c.TPR}.r${c.RB}`;
}
