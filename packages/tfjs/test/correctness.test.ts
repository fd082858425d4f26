import { assertClose, FLOAT32_TOLERANCE } from '@sparse/conformance/testing';
import { referenceAttention } from '@sparse/core/reference';
import { describe, it } from 'vitest';
import { type TfjsBackendOptions, tfjs } from '../src/index.js';
import { CASES } from './cases.js';
import { caseRequest, LSE_F32, TF_BACKENDS, tf, useBackend, viaResident } from './helpers.js';

const SETTINGS: [string, TfjsBackendOptions][] = [
  ['default', {}],
  // Small tiles and a tiny score budget: many chunks, ragged tiles, padded slots, grouping by count, bands.
  ['batched 8x16 tiles, small chunks', { strategy: 'batched', tiles: { blockQ: 8, blockK: 16 }, maxScoreElements: 1500 }],
  ['batched 5x3 tiles', { strategy: 'batched', tiles: { blockQ: 5, blockK: 3 } }],
  ['plain 8x8 tiles, small chunks', { strategy: 'plain', tiles: { blockQ: 8, blockK: 8 }, maxScoreElements: 3000 }],
  ['plain 4x6 tiles', { strategy: 'plain', tiles: { blockQ: 4, blockK: 6 } }],
  // The other way of reading blocks than the backend's default (cpu: slices, wasm: gatherND).
  ['batched 8x8, other take', { strategy: 'batched', tiles: { blockQ: 8, blockK: 8 }, maxScoreElements: 3000, take: 'other' as never }],
  ['plain 8x8, other take', { strategy: 'plain', tiles: { blockQ: 8, blockK: 8 }, take: 'other' as never }],
];

for (const backend of TF_BACKENDS) {
  describe(`attentionResident on tf.js ${backend} vs core's reference`, () => {
    for (const spec of CASES) {
      it(spec.name, async () => {
        await useBackend(backend);
        const request = caseRequest(spec);
        const expected = referenceAttention(request);
        for (const [label, settings] of SETTINGS) {
          const other: TfjsBackendOptions['take'] = backend === 'cpu' ? 'gatherNd' : 'slice';
          const options: TfjsBackendOptions = settings.take === ('other' as never) ? { ...settings, take: other } : settings;
          const be = tfjs({ tf, backendName: backend, ...options });
          const { out, lse } = await viaResident(be, request);
          await be.dispose();
          assertClose(out.data, expected.out.data, FLOAT32_TOLERANCE, `${label} out`);
          assertClose(lse!.data, expected.lse!.data, LSE_F32, `${label} lse`);
        }
      });
    }
  });
}
