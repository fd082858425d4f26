import type { Layout, Pattern } from '@sparse/core';

/** Tolerance of a comparison: |out - gold| <= atol + rtol·|gold|, |lse - gold| <= lseAtol + 2⁻²²·|gold|. */
export interface Tolerance {
  atol: number;
  rtol: number;
  lseAtol: number;
}

export const FLOAT32_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 };

/** The JSON manifest of one golden case (fixtures/<id>/case.json). */
export interface CaseManifest {
  id: string;
  /** One sentence: what this case pins. */
  pins: string;
  tags: string[];
  pattern: Pattern | Pattern[];
  layout: Layout;
  scale?: number;
  queryOffset?: number;
  shapes: { q: number[]; k: number[]; v: number[]; out: number[]; lse: number[] };
  tolerance: Tolerance;
  /** Files beside case.json: inputs float32, expected outputs float64. */
  files: { q: string; k: string; v: string; out: string; lse: string };
  /** Allowed pairs over all heads and batches (for reports). */
  nnz: number;
}

/** fixtures/index.json */
export interface FixtureIndex {
  version: 1;
  generator: string;
  cases: string[];
}
