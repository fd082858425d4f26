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

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return !!a && a.length === b.length && a.every((x, n) => x === b[n]);
}

/** Compares a backend result with a golden case at a tolerance. NaN anywhere fails. */
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
    if (!(err <= tol.lseAtol)) message ??= `lse[${n}] = ${got}, expected ${gold} (|err| ${err.toExponential(2)} > ${tol.lseAtol})`;
  }
  return { pass: message === undefined, maxAbsErr, maxRelErr, lseMaxErr, ...(message ? { message } : {}) };
}
