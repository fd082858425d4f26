import { BlockMaskCache, forEachAllowedKey as visitAllowed, type BlockMask, type TileSizes } from '../compile/blockmask.js';
import { SparseAttentionError } from '../errors.js';
import type { Pattern } from '../pattern/types.js';
import { planAttention, type AttentionRequest } from '../request.js';
import { rowOffset } from '../tensor.js';
import type { Attention64 } from './attention.js';
import { clusterLabel, normalisedCentroids, topkCut } from './content.js';

export interface BlockedOptions {
  tiles?: TileSizes;
  cache?: BlockMaskCache;
  signal?: AbortSignal;
}

const sharedCache = new BlockMaskCache(16);

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal');
}

/**
 * The second, independent path to the reference values: the compiled BlockMask drives a fused loop (listed key
 * blocks only, bits tested only in partial blocks, online softmax) in float64, with the two-pass content-based
 * rules of DESIGN §4 (top-k threshold and tie cut per row; cluster labels per token). It shares no mask logic
 * with the predicate path, so the tests that compare the two check the compiler end to end.
 */
export function blockedAttention64(request: AttentionRequest, options: BlockedOptions = {}): Attention64 {
  const plan = planAttention(request);
  const { batch, headsQ, headsKv, seqQ, seqK, headDim: D, headDimV: Dv, layout, scale, group } = plan;
  const tiles = options.tiles ?? { blockQ: 32, blockK: 32 };
  const cache = options.cache ?? sharedCache;
  const masks = new Map<Pattern, BlockMask>();
  const { q, k, v } = request;
  const out = new Float64Array(batch * headsQ * seqQ * Dv);
  const lse = new Float64Array(batch * headsQ * seqQ);
  const acc = new Float64Array(Dv);
  const candScores: number[] = [];
  const candKeys: number[] = [];
  let labelsK: Int32Array | null = null;

  for (let h = 0; h < headsQ; h++) {
    const pattern = plan.patterns[h]!;
    let mask = masks.get(pattern);
    if (!mask) {
      mask = cache.get(pattern, plan, tiles);
      masks.set(pattern, mask);
    }
    const hk = Math.floor(h / group);
    const unit = pattern.kind === 'cluster' ? normalisedCentroids(pattern) : null;
    for (let b = 0; b < batch; b++) {
      checkAbort(options.signal);
      if (unit) {
        labelsK = new Int32Array(seqK);
        for (let j = 0; j < seqK; j++) labelsK[j] = clusterLabel(k.data, rowOffset(layout, headsKv, seqK, D, b, hk, j), unit, D);
      }
      for (let i = 0; i < seqQ; i++) {
        const qa = rowOffset(layout, headsQ, seqQ, D, b, h, i);
        const score = (j: number): number => {
          const ka = rowOffset(layout, headsKv, seqK, D, b, hk, j);
          let s = 0;
          for (let d = 0; d < D; d++) s += q.data[qa + d]! * k.data[ka + d]!;
          return s * scale;
        };
        // Pass 1 (content-based only): the top-k threshold of this row, or the query's cluster label.
        let threshold = -Infinity;
        let tieCut = Infinity;
        let labelQ = -1;
        if (pattern.kind === 'topk') {
          candScores.length = 0;
          candKeys.length = 0;
          visitAllowed(mask, i, (j) => {
            candScores.push(score(j));
            candKeys.push(j);
          });
          ({ threshold, tieCut } = topkCut(candScores, candKeys, candKeys.length, pattern.k));
        } else if (unit) labelQ = clusterLabel(q.data, qa, unit, D);

        // Pass 2: online softmax over the listed keys.
        let m = -Infinity;
        let l = 0;
        acc.fill(0);
        visitAllowed(mask, i, (j) => {
          if (labelsK && labelsK[j] !== labelQ) return;
          const s = score(j);
          if (s < threshold || (s === threshold && j > tieCut)) return;
          const va = rowOffset(layout, headsKv, seqK, Dv, b, hk, j);
          if (s > m) {
            const corr = Math.exp(m - s);
            l = l * corr + 1;
            for (let d = 0; d < Dv; d++) acc[d] = acc[d]! * corr + v.data[va + d]!;
            m = s;
          } else {
            const w = Math.exp(s - m);
            l += w;
            for (let d = 0; d < Dv; d++) acc[d]! += w * v.data[va + d]!;
          }
        });
        const oa = rowOffset(layout, headsQ, seqQ, Dv, b, h, i);
        for (let d = 0; d < Dv; d++) out[oa + d] = l > 0 ? acc[d]! / l : 0;
        lse[(b * headsQ + h) * seqQ + i] = l > 0 ? m + Math.log(l) : -Infinity;
      }
    }
  }
  return { plan, out, lse };
}
