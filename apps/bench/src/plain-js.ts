import { type AttentionPlan, type AttentionRequest, type Backend, type BlockMask, BlockMaskCache, type Pattern } from '@sparse/core';
import { clusterLabel, defineBackend, normalisedCentroids, resolveOptions, rowOffset, shapeOf, topkCut } from '@sparse/core/backend';

/**
 * The "plain JavaScript" peer: what a user writes without a library, made as fast as plain JS reasonably gets:
 * one fused loop per query row over core's compiled BlockMask (listed blocks only, bits tested in partial
 * blocks), online softmax, float32 storage (JS arithmetic is float64), one thread. Top-k and cluster use the
 * two-pass rules of docs/design.md (Content-based patterns). Unlike core's reference it is tuned for speed, not as a second oracle.
 */
export function plainJs(): Backend {
  const cache = new BlockMaskCache(8);
  const tiles = { blockQ: 32, blockK: 32 };
  return defineBackend(
    {
      name: 'plain-js',
      start: async () => cache,
      describe: () => 'plain JavaScript loop, float32 arrays, one thread',
      check: (plan) => (plan.layout === 'bhsd' ? null : { code: 'UNSUPPORTED', field: 'layout', message: 'plain-js: only the bhsd layout' }),
      async run(cache, request, plan) {
        return { out: { data: fused(request, plan, cache, tiles), shape: shapeOf('bhsd', plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) } };
      },
      async release(cache) {
        cache.clear();
      },
    },
    // What a user writes without a library runs the dilated pattern as it is.
    resolveOptions({ partitionDilation: false }),
  );
}

function fused(request: AttentionRequest, plan: AttentionPlan, cache: BlockMaskCache, tiles: { blockQ: number; blockK: number }): Float32Array {
  const { batch, headsQ, headsKv, seqQ, seqK, headDim: D, headDimV: Dv, scale, group } = plan;
  const qd = request.q.data;
  const kd = request.k.data;
  const vd = request.v.data;
  const out = new Float32Array(batch * headsQ * seqQ * Dv);
  const acc = new Float32Array(Dv);
  const qrow = new Float32Array(D);
  const masks = new Map<Pattern, BlockMask>();
  let cand = new Float32Array(256);
  let candKeys = new Int32Array(256);
  for (let h = 0; h < headsQ; h++) {
    const pattern = plan.patterns[h]!;
    let mask = masks.get(pattern);
    if (!mask) {
      mask = cache.get(pattern, plan, tiles);
      masks.set(pattern, mask);
    }
    const { rowPtr, colIdx, partialIdx, bits, blockQ, blockK, wordsPerRow } = mask;
    const hk = Math.floor(h / group);
    const unit = pattern.kind === 'cluster' ? normalisedCentroids(pattern) : null;
    const k = pattern.kind === 'topk' ? pattern.k : 0;
    for (let b = 0; b < batch; b++) {
      const kBase = rowOffset('bhsd', headsKv, seqK, D, b, hk, 0);
      const vBase = rowOffset('bhsd', headsKv, seqK, Dv, b, hk, 0);
      let labelsK: Int32Array | null = null;
      if (unit) {
        labelsK = new Int32Array(seqK);
        for (let j = 0; j < seqK; j++) labelsK[j] = clusterLabel(kd, kBase + j * D, unit, D);
      }
      for (let i = 0; i < seqQ; i++) {
        const qa = rowOffset('bhsd', headsQ, seqQ, D, b, h, i);
        for (let d = 0; d < D; d++) qrow[d] = qd[qa + d]! * scale;
        const labelQ = unit ? clusterLabel(qd, qa, unit, D) : -1;
        const qb = (i / blockQ) | 0;
        const r = i - qb * blockQ;
        let threshold = Number.NEGATIVE_INFINITY;
        let tieCut = Number.POSITIVE_INFINITY;
        for (let pass = k > 0 ? 0 : 1; pass < 2; pass++) {
          let count = 0;
          let m = Number.NEGATIVE_INFINITY;
          let l = 0;
          if (pass === 1) acc.fill(0);
          for (let n = rowPtr[qb]!; n < rowPtr[qb + 1]!; n++) {
            const j0 = colIdx[n]! * blockK;
            const j1 = Math.min(j0 + blockK, seqK);
            const P = partialIdx[n]!;
            const rowBits = P < 0 ? -1 : (P * blockQ + r) * wordsPerRow;
            for (let j = j0; j < j1; j++) {
              if (rowBits >= 0) {
                const c = j - j0;
                if (((bits[rowBits + (c >>> 5)]! >>> (c & 31)) & 1) === 0) continue;
              }
              if (labelsK !== null && labelsK[j] !== labelQ) continue;
              const ka = kBase + j * D;
              let s = 0;
              for (let d = 0; d < D; d++) s += qrow[d]! * kd[ka + d]!;
              if (k > 0) s = Math.fround(s); // top-k compares the stored float32 scores in both passes
              if (pass === 0) {
                if (count === cand.length) {
                  const c2 = new Float32Array(count * 2);
                  c2.set(cand);
                  cand = c2;
                  const k2 = new Int32Array(count * 2);
                  k2.set(candKeys);
                  candKeys = k2;
                }
                cand[count] = s;
                candKeys[count++] = j;
                continue;
              }
              if (s < threshold || (s === threshold && j > tieCut)) continue;
              const va = vBase + j * Dv;
              if (s > m) {
                const corr = Math.exp(m - s);
                l = l * corr + 1;
                for (let d = 0; d < Dv; d++) acc[d] = acc[d]! * corr + vd[va + d]!;
                m = s;
              } else {
                const w = Math.exp(s - m);
                l += w;
                for (let d = 0; d < Dv; d++) acc[d]! += w * vd[va + d]!;
              }
            }
          }
          if (pass === 0) {
            ({ threshold, tieCut } = topkCut(cand, candKeys, count, k));
            continue;
          }
          const oa = rowOffset('bhsd', headsQ, seqQ, Dv, b, h, i);
          if (l > 0) for (let d = 0; d < Dv; d++) out[oa + d] = acc[d]! / l;
        }
      }
    }
  }
  return out;
}
