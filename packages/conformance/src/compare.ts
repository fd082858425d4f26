import type { AttentionResult } from '@sparse/core';
import type { GoldenCase } from './cases.js';
import type { Tolerance } from './manifest.js';

export interface CaseOutcome {
  id: string;
  pass: boolean;
  /** Max |out - gold| and max |out - gold| / |gold| (over entries with |gold| > 1e-6). */
  maxAbsErr: number;
  maxRelErr: number;
  lseMaxErr: number;
  /** Why it failed, in words (first offending entry), or why it was skipped. */
  message?: string;
  skipped?: boolean;
  ms?: number;
}

/** Twice float32's unit roundoff: a float32 lse cannot be closer than this relative distance to the float64 gold. */
const LSE_ROUNDING = 2 ** -22;

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return !!a && a.length === b.length && a.every((x, n) => x === b[n]);
}

/**
 * Compares a backend result with a golden case at a tolerance. A NaN where the gold is finite fails, and so does a
 * number where the gold is NaN (the non-finite rule of docs/design.md: exactly the rows it names are NaN).
 */
export function compareResult(golden: GoldenCase, result: AttentionResult, tol: Tolerance): Omit<CaseOutcome, 'id'> {
  const { manifest, expected } = golden;
  if (!sameShape(result.out?.shape, manifest.shapes.out)) {
    return {
      pass: false,
      maxAbsErr: Infinity,
      maxRelErr: Infinity,
      lseMaxErr: Infinity,
      message: `out shape ${JSON.stringify(result.out?.shape)} != expected ${JSON.stringify(manifest.shapes.out)}`,
    };
  }
  if (!result.lse || !sameShape(result.lse.shape, manifest.shapes.lse)) {
    return {
      pass: false,
      maxAbsErr: Infinity,
      maxRelErr: Infinity,
      lseMaxErr: Infinity,
      message: `lse missing or shape ${JSON.stringify(result.lse?.shape)} != expected ${JSON.stringify(manifest.shapes.lse)}`,
    };
  }
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let lseMaxErr = 0;
  let message: string | undefined;
  const out = result.out.data;
  for (let n = 0; n < expected.out.length; n++) {
    const gold = expected.out[n]!;
    const got = out[n]!;
    const err = Math.abs(got - gold);
    if (Number.isNaN(gold)) {
      if (!Number.isNaN(got)) message ??= `out[${n}] = ${got}, expected NaN (its row attends a non-finite score or value)`;
      continue;
    }
    if (Number.isNaN(got)) {
      message ??= `out[${n}] is NaN (expected ${gold})`;
      maxAbsErr = Infinity;
      continue;
    }
    maxAbsErr = Math.max(maxAbsErr, err);
    if (Math.abs(gold) > 1e-6) maxRelErr = Math.max(maxRelErr, err / Math.abs(gold));
    if (!(err <= tol.atol + tol.rtol * Math.abs(gold)))
      message ??= `out[${n}] = ${got}, expected ${gold} (|err| ${err.toExponential(2)} > ${tol.atol} + ${tol.rtol}·|gold|)`;
  }
  const lse = result.lse.data;
  for (let n = 0; n < expected.lse.length; n++) {
    const gold = expected.lse[n]!;
    const got = lse[n]!;
    if (Number.isNaN(gold)) {
      if (!Number.isNaN(got)) message ??= `lse[${n}] = ${got}, expected NaN (its row attends a non-finite score or value)`;
      continue;
    }
    if (gold === -Infinity || got === -Infinity) {
      if (gold !== got) message ??= `lse[${n}] = ${got}, expected ${gold} (a fully masked row has lse -Infinity)`;
      continue;
    }
    const err = Math.abs(got - gold);
    if (Number.isNaN(got)) {
      message ??= `lse[${n}] is NaN (expected ${gold})`;
      lseMaxErr = Infinity;
      continue;
    }
    lseMaxErr = Math.max(lseMaxErr, err);
    // Plus the float32 rounding of lse itself, which only matters for huge scores (|lse| ≈ 1e32).
    const allowed = tol.lseAtol + LSE_ROUNDING * Math.abs(gold);
    if (!(err <= allowed)) message ??= `lse[${n}] = ${got}, expected ${gold} (|err| ${err.toExponential(2)} > ${allowed.toExponential(2)})`;
  }
  return { pass: message === undefined, maxAbsErr, maxRelErr, lseMaxErr, ...(message ? { message } : {}) };
}
