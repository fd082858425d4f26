// The bf16 / f16 tolerances (src/tolerance.ts) against the kernel emulator with storage-rounded inputs (and,
// on the tensor-core kernels, storage-rounded softmax weights): a correct kernel must pass every golden case
// within the derived tolerance. The old fixed f16 tolerance (4e-3 + 4e-3·|gold|) is below what rounding the
// inputs alone costs on large-scores.
import { compareResult, listCases, loadCase } from '@sparse/conformance';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS module shared with scripts/device-run.mjs
import { contentSelectionSkip } from '../scripts/conformance-skips.mjs';
import type { Precision } from '../src/options.js';
import { toleranceFor } from '../src/tolerance.js';
import { modelBackend } from './model-backend.js';

const OLD_F16 = { atol: 4e-3, rtol: 4e-3, lseAtol: 4e-3 };

describe.each(['bfloat16', 'float16'] as Precision[])('%s tolerance derived from the unit roundoff', (precision) => {
  it('holds every golden case run by the emulator on rounded inputs', async () => {
    const backend = modelBackend({ precision, isolateLoad: false });
    const skip = contentSelectionSkip(precision) as Record<string, string>;
    const failures: string[] = [];
    let worst = 0;
    for (const manifest of listCases()) {
      if (skip[manifest.id]) continue;
      const golden = loadCase(manifest);
      const tol = toleranceFor(precision, golden.request);
      const outcome = compareResult(golden, await backend.attention(golden.request), tol);
      if (!outcome.pass) failures.push(`${manifest.id}: ${outcome.message}`);
      worst = Math.max(worst, outcome.lseMaxErr / tol.lseAtol);
    }
    await backend.dispose();
    expect(failures).toEqual([]);
    expect(worst).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('float16 large-scores', () => {
  it('exceeds the old fixed tolerance from input rounding alone, and stays within the derived one', async () => {
    const golden = loadCase(listCases({ filter: 'large-scores' }).find((m) => m.id === 'large-scores')!);
    const backend = modelBackend({ precision: 'float16', isolateLoad: false });
    const result = await backend.attention(golden.request);
    await backend.dispose();
    const old = compareResult(golden, result, OLD_F16);
    expect(old.pass).toBe(false);
    expect(old.maxAbsErr).toBeGreaterThan(5e-3);
    expect(compareResult(golden, result, toleranceFor('float16', golden.request)).pass).toBe(true);
  });

  it('float32 keeps the project tolerance', () => {
    const golden = loadCase(listCases().find((m) => m.id === 'large-scores')!);
    expect(toleranceFor('float32', golden.request)).toEqual({ atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
  });
});
