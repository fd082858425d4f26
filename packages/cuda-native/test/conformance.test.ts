// The golden cases on this backend, through both entry points: host arrays (attention) and resident tensors
// (upload, attentionResident, download: viaResident). Without a GPU (CI, this machine) every case is skipped
// with the probe's reason ("no CUDA device ..."); on a GPU machine SPARSE_CUDA_REQUIRE_DEVICE=1 makes an
// unavailable device fail the suite instead, and every case must pass. SPARSE_CUDA_PRECISION picks the storage
// precision: float32 (default) at the project's tolerance; bf16 and f16 at each case's derived tolerance
// (toleranceFor), without the content-based cases (scripts/conformance-skips.mjs says why).

import { listCases, loadCase, runCase } from '@sparse/conformance';
import { describeConformance } from '@sparse/conformance/vitest';
import type { Backend } from '@sparse/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS module shared with scripts/device-run.mjs
import { contentSelectionSkip } from '../scripts/conformance-skips.mjs';
import { cudaNative, type Precision, toleranceFor, viaResident } from '../src/index.js';

const precision = (process.env.SPARSE_CUDA_PRECISION ?? 'float32') as Precision;
const requireAvailable = process.env.SPARSE_CUDA_REQUIRE_DEVICE === '1';

if (precision === 'float32') {
  describeConformance({ name: 'cuda-native float32', create: () => cudaNative(), requireAvailable });
  describeConformance({ name: 'cuda-native float32 (resident)', create: () => viaResident(cudaNative()), requireAvailable });
} else {
  for (const resident of [false, true]) {
    describe(`conformance: cuda-native ${precision}${resident ? ' (resident)' : ''}, derived tolerance`, () => {
      const skip = contentSelectionSkip(precision) as Record<string, string>;
      let backend: Backend;
      let unavailable: string | undefined;
      beforeAll(async () => {
        backend = resident ? viaResident(cudaNative({ precision })) : cudaNative({ precision });
        const probe = await backend.probe();
        if (!probe.available) unavailable = probe.reason ?? 'unavailable';
        if (unavailable && requireAvailable) throw new Error(`cuda-native is unavailable here (${unavailable})`);
      }, 120_000);
      afterAll(() => backend?.dispose());
      for (const manifest of listCases()) {
        if (skip[manifest.id]) {
          it.skip(`${manifest.id} (skipped: ${skip[manifest.id]})`, () => undefined);
          continue;
        }
        it(manifest.id, async (ctx) => {
          if (unavailable) return ctx.skip(`backend unavailable: ${unavailable}`);
          const golden = loadCase(manifest);
          const outcome = await runCase(backend, golden, { tolerance: toleranceFor(precision, golden.request) });
          expect(outcome.pass, `${manifest.id}: ${outcome.message}`).toBe(true);
        });
      }
    });
  }
}
