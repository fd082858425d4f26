import { assertClose, FLOAT32_TOLERANCE, randomTensor, uniform } from '@sparse/conformance/testing';
import type { AttentionRequest, Pattern } from '@sparse/core';
import { shapeOf } from '@sparse/core/backend';
import { referenceAttention } from '@sparse/core/reference';
import { describe, it } from 'vitest';
import { type TfjsBackendOptions, tfjs } from '../src/index.js';
import { LSE_F32, TF_BACKENDS, tf, useBackend, viaResident } from './helpers.js';

/** Seeded choices, so that a failure names a reproducible configuration. */
function rng(seed: number) {
  const u = uniform(seed);
  const next = () => (u() + 1) / 2;
  return { int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

function randomPattern(r: ReturnType<typeof rng>, Sk: number, D: number): Pattern {
  const local = (): Pattern => ({ kind: 'local', left: r.int(0, 9), right: r.int(0, 9) });
  const kinds: (() => Pattern)[] = [
    local,
    () => ({ kind: 'causal' }),
    () => ({ kind: 'dilated', dilation: r.int(1, 4), left: r.int(0, 5), right: r.int(0, 5) }),
    () => ({ kind: 'union', of: [local(), { kind: 'global', tokens: [0, r.int(0, Sk - 1)] }] }),
    () => ({ kind: 'not', of: local() }),
    () => ({ kind: 'randomBlocks', block: r.int(2, 9), perRow: r.int(1, 3), seed: r.int(0, 99) }),
    () => ({ kind: 'documents', offsets: [0, r.int(0, Sk), Sk] }),
    () => ({ kind: 'topk', k: r.int(1, 6), within: r.pick([undefined, { kind: 'causal' } as Pattern]) ?? { kind: 'dense' } }),
    () => ({ kind: 'cluster', centroids: Array.from({ length: r.int(1, 3) }, (_, c) => Array.from({ length: D }, (_, d) => ((c + d) % 3) - 1 + 0.5)) }),
  ];
  return r.pick(kinds)();
}

const CONFIGS = Number(process.env.RANDOM_CONFIGS ?? 14);

for (const backend of TF_BACKENDS) {
  describe(`random configurations on tf.js ${backend}`, () => {
    for (let seed = 1; seed <= CONFIGS; seed++) {
      it(`seed ${seed}`, async () => {
        await useBackend(backend);
        const r = rng(seed * 7919 + (backend === 'cpu' ? 0 : 1));
        const B = r.int(1, 2);
        const Hkv = r.int(1, 2);
        const Hq = Hkv * r.int(1, 3);
        const Sq = r.int(1, 70);
        const Sk = r.int(1, 70);
        const D = r.int(1, 9);
        const Dv = r.int(1, 6);
        const layout = r.pick(['bhsd', 'bshd'] as const);
        const perHead = r.int(0, 3) === 0;
        const pattern = perHead ? Array.from({ length: Hq }, () => randomPattern(r, Sk, D)) : randomPattern(r, Sk, D);
        const request: AttentionRequest = {
          q: randomTensor(shapeOf(layout, B, Hq, Sq, D), seed),
          k: randomTensor(shapeOf(layout, B, Hkv, Sk, D), seed + 100),
          v: randomTensor(shapeOf(layout, B, Hkv, Sk, Dv), seed + 200),
          pattern,
          layout,
          queryOffset: r.pick([undefined, 0, r.int(-5, 5)]),
          returnLse: true,
        };
        const options: TfjsBackendOptions = {
          tiles: { blockQ: r.int(1, 20), blockK: r.int(1, 20) },
          strategy: r.pick(['batched', 'plain'] as const),
          take: r.pick(['slice', 'gatherNd'] as const),
          maxScoreElements: r.pick([400, 5000, 1 << 22]),
        };
        const what = JSON.stringify({ B, Hq, Hkv, Sq, Sk, D, Dv, layout, pattern, queryOffset: request.queryOffset, options });
        const expected = referenceAttention(request);
        const be = tfjs({ tf, backendName: backend, ...options });
        const { out, lse } = await viaResident(be, request);
        await be.dispose();
        assertClose(out.data, expected.out.data, FLOAT32_TOLERANCE, `out ${what}`);
        assertClose(lse!.data, expected.lse!.data, LSE_F32, `lse ${what}`);
      });
    }
  });
}
