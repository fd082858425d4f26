import { type BlockMask, BlockMaskCache, type TileSizes } from '../compile/blockmask.js';
import { SparseAttentionError } from '../errors.js';
import type { Pattern } from '../pattern/types.js';
import { type AttentionPlan, type AttentionRequest, planAttention } from '../request.js';
import { rowOffset } from '../tensor.js';
import type { Attention64 } from './attention.js';
import { clusterLabel, isFiniteFloat32, normalisedCentroids, topkCut } from './content.js';

export interface BlockedOptions {
  tiles?: TileSizes;
  cache?: BlockMaskCache;
  signal?: AbortSignal;
  /** The request's plan when the caller validated it already (it is not validated twice). */
  plan?: AttentionPlan;
}

const sharedCache = new BlockMaskCache(16);

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'signal: the call was aborted by its AbortSignal', { field: 'signal' });
}

/**
 * The second, independent path to the reference values: the compiled BlockMask drives a fused loop (listed key
 * blocks only, bits tested only in partial blocks, online softmax) in float64, with the two-pass content-based
 * rules (top-k threshold and tie cut per row; cluster labels per token). It shares no mask logic
 * with the predicate path, so the tests that compare the two check the compiler end to end.
 */
export function blockedAttention64(request: AttentionRequest, options: BlockedOptions = {}): Attention64 {
  const plan = options.plan ?? planAttention(request);
  const { batch, headsQ, headsKv, seqQ, seqK, headDim: D, headDimV: Dv, layout, scale, group } = plan;
  const tiles = options.tiles ?? { blockQ: 32, blockK: 32 };
  const cache = options.cache ?? sharedCache;
  const masks = new Map<Pattern, BlockMask>();
  const { q, k, v } = request;
  const out = new Float64Array(batch * headsQ * seqQ * Dv);
  const lse = new Float64Array(batch * headsQ * seqQ);
  const acc = new Float64Array(Dv);
  const qrow = new Float64Array(D);
  let candScores: Float64Array = new Float64Array(64);
  let candKeys: Int32Array = new Int32Array(64);
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  // Row strides along the sequence axis: one row of D values per step in bhsd, a whole [H, D] slab in bshd.
  const qStride = layout === 'bhsd' ? D : headsQ * D;
  const kStride = layout === 'bhsd' ? D : headsKv * D;
  const vStride = layout === 'bhsd' ? Dv : headsKv * Dv;
  const oStride = layout === 'bhsd' ? Dv : headsQ * Dv;

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
    const topk = pattern.kind === 'topk' ? pattern.k : 0;
    for (let b = 0; b < batch; b++) {
      checkAbort(options.signal);
      const qBase = rowOffset(layout, headsQ, seqQ, D, b, h, 0);
      const kBase = rowOffset(layout, headsKv, seqK, D, b, hk, 0);
      const vBase = rowOffset(layout, headsKv, seqK, Dv, b, hk, 0);
      const oBase = rowOffset(layout, headsQ, seqQ, Dv, b, h, 0);
      let labelsK: Int32Array | null = null;
      if (unit) {
        labelsK = new Int32Array(seqK);
        for (let j = 0; j < seqK; j++) labelsK[j] = clusterLabel(kd, kBase + j * kStride, unit, D);
      }
      for (let i = 0; i < seqQ; i++) {
        const qa = qBase + i * qStride;
        for (let d = 0; d < D; d++) qrow[d] = qd[qa + d]!;
        const qb = Math.floor(i / blockQ);
        const r = i - qb * blockQ;
        const labelQ = unit ? clusterLabel(qd, qa, unit, D) : -1;
        let threshold = -Infinity;
        let tieCut = Infinity;
        // The non-finite rule: a score that is not a finite float32 among the keys the row depends on (top-k: every
        // candidate, pass 0), or a non-finite v of a kept key, makes the row NaN; masked keys are never read.
        let bad = false;
        // Pass 1 (top-k only): every candidate score of the row, then its threshold and tie cut.
        for (let pass = topk > 0 ? 0 : 1; pass < 2; pass++) {
          let count = 0;
          let m = -Infinity;
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
              if (labelsK && labelsK[j] !== labelQ) continue;
              const ka = kBase + j * kStride;
              let dot = 0;
              for (let d = 0; d < D; d++) dot += qrow[d]! * kd[ka + d]!;
              const sc = dot * scale;
              if (!isFiniteFloat32(sc)) {
                bad = true;
                continue;
              }
              if (pass === 0) {
                if (count === candScores.length) {
                  candScores = growF64(candScores);
                  candKeys = growI32(candKeys);
                }
                candScores[count] = sc;
                candKeys[count++] = j;
                continue;
              }
              if (sc < threshold || (sc === threshold && j > tieCut)) continue;
              const va = vBase + j * vStride;
              for (let d = 0; d < Dv; d++) if (!Number.isFinite(vd[va + d]!)) bad = true;
              if (sc > m) {
                const corr = Math.exp(m - sc);
                l = l * corr + 1;
                for (let d = 0; d < Dv; d++) acc[d] = acc[d]! * corr + vd[va + d]!;
                m = sc;
              } else {
                const w = Math.exp(sc - m);
                l += w;
                for (let d = 0; d < Dv; d++) acc[d]! += w * vd[va + d]!;
              }
            }
          }
          if (pass === 0) {
            if (!bad) ({ threshold, tieCut } = topkCut(candScores, candKeys, count, topk));
            continue;
          }
          const oa = oBase + i * oStride;
          if (bad) {
            out.fill(Number.NaN, oa, oa + Dv);
            lse[(b * headsQ + h) * seqQ + i] = Number.NaN;
            continue;
          }
          for (let d = 0; d < Dv; d++) out[oa + d] = l > 0 ? acc[d]! / l : 0;
          lse[(b * headsQ + h) * seqQ + i] = l > 0 ? m + Math.log(l) : -Infinity;
        }
      }
    }
  }
  return { plan, out, lse };
}

function growF64(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
