import { referenceAttention } from '@sparse/core/reference';
import { describe, it } from 'vitest';
import { sparseAttention } from '../src/index.js';
import type { ComputeOptions } from '../src/types.js';
import { CASES } from './cases.js';
import { expectClose, F32, makeRequest, TF_BACKENDS, tf, useBackend } from './helpers.js';

const SETTINGS: [string, ComputeOptions][] = [
  ['default', {}],
  // Small tiles and a tiny score budget: many chunks, ragged tiles, padded slots, grouping by count, bands.
  ['batched 8x16 tiles, small chunks', { strategy: 'batched', blockQ: 8, blockK: 16, maxScoreElements: 1500 }],
  ['batched 5x3 tiles', { strategy: 'batched', blockQ: 5, blockK: 3 }],
  ['plain 8x8 tiles, small chunks', { strategy: 'plain', blockQ: 8, blockK: 8, maxScoreElements: 3000 }],
  ['plain 4x6 tiles', { strategy: 'plain', blockQ: 4, blockK: 6 }],
  // The other way of reading blocks than the backend's default (cpu: slices, wasm: gatherND).
  ['batched 8x8, other take', { strategy: 'batched', blockQ: 8, blockK: 8, maxScoreElements: 3000, take: 'other' as never }],
  ['plain 8x8, other take', { strategy: 'plain', blockQ: 8, blockK: 8, take: 'other' as never }],
];

for (const backend of TF_BACKENDS) {
  describe(`sparseAttention on tf.js ${backend} vs core's reference`, () => {
    for (const spec of CASES) {
      it(spec.name, async () => {
        await useBackend(backend);
        const request = makeRequest(spec);
        const expected = referenceAttention(request);
        for (const [label, settings] of SETTINGS) {
          const other: ComputeOptions['take'] = backend === 'cpu' ? 'gatherNd' : 'slice';
          const options: ComputeOptions = settings.take === ('other' as never) ? { ...settings, take: other } : settings;
          const { out, lse } = tf.tidy(() => {
            const q = tf.tensor(request.q.data, [...request.q.shape]);
            const k = tf.tensor(request.k.data, [...request.k.shape]);
            const v = tf.tensor(request.v.data, [...request.v.shape]);
            const r = sparseAttention(tf, { ...request, q, k, v }, options);
            return { out: r.out, lse: r.lse! };
          });
          expectClose(await out.data(), expected.out.data, F32, `${label} out`);
          expectClose(await lse.data(), expected.lse!.data, F32, `${label} lse`, true);
          tf.dispose([out, lse]);
        }
      });
    }
  });
}
