import { type BlockMask, type ClusterPattern, compileBlockMask, type Pattern } from '@sparse/core';
import { clusterLabel, forEachAllowedKey, normalisedCentroids, rowOffset } from '@sparse/core/backend';
import type { Inputs } from './data.js';
import { type BenchCase, seqQ } from './workloads.js';

/** What one workload costs, from core's compiled BlockMask (B = 1, all heads). */
export interface CaseStats {
  /** Allowed (query, key) pairs over all query heads: the pairs that enter a softmax. */
  nnz: number;
  /** nnz / (Hq · N²). */
  density: number;
  /** Pairs a kernel must at least score: the compiled mask's (the `within` of top-k / cluster). Equals nnz for static patterns. */
  candidateNnz: number;
  candidateDensity: number;
  /** false when nnz of a cluster workload was estimated from sampled rows. */
  exact: boolean;
  /** 4 · nnz · D: useful floating-point work (QKᵀ and PV, multiply-add = 2). */
  flops: number;
  /** The compiled BlockMask at 64 × 64 tiles. */
  mask: { bytes: number; fullBlocks: number; partialBlocks: number; skippedBlocks: number; blockEfficiency: number };
  /** q + k + v + out, float32. */
  ioBytes: number;
  /** Hq · Sq · Sk · 4: the score matrix a dense implementation materialises. */
  denseScoreBytes: number;
  /** Distinct keys any query row may attend (per kv head; the `within` candidates of top-k / cluster): the K and V rows a kernel must read. */
  keysRead: number;
  /**
   * Bytes the pattern requires moving, float32: the K and V rows of `keysRead` for every kv head, plus q and out.
   * Effective GB/s = requiredBytes / time (see `bandwidthFigures`).
   */
  requiredBytes: number;
}

const TILES = { blockQ: 64, blockK: 64 };

/** Allowed keys per query row of a compiled mask. */
export function rowCounts(mask: BlockMask): Int32Array {
  const counts = new Int32Array(mask.seqQ);
  for (let qb = 0; qb < mask.numQBlocks; qb++) {
    const i0 = qb * mask.blockQ;
    const i1 = Math.min(i0 + mask.blockQ, mask.seqQ);
    for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
      const P = mask.partialIdx[n]!;
      if (P < 0) {
        const width = Math.min(mask.blockK, mask.seqK - mask.colIdx[n]! * mask.blockK);
        for (let i = i0; i < i1; i++) counts[i]! += width;
        continue;
      }
      for (let i = i0; i < i1; i++) {
        const off = (P * mask.blockQ + (i - i0)) * mask.wordsPerRow;
        let c = 0;
        for (let w = 0; w < mask.wordsPerRow; w++) {
          let x = mask.bits[off + w]!;
          while (x !== 0) {
            x &= x - 1;
            c++;
          }
        }
        counts[i]! += c;
      }
    }
  }
  return counts;
}

function labels(t: Inputs['q'], heads: number, seq: number, D: number, h: number, unit: Float64Array): Int32Array {
  const out = new Int32Array(seq);
  for (let i = 0; i < seq; i++) out[i] = clusterLabel(t.data, rowOffset('bhsd', heads, seq, D, 0, h, i), unit, D);
  return out;
}

/** Kept pairs of a cluster pattern: exact up to `budget` candidate pairs, else from evenly sampled rows. */
function clusterPairs(p: ClusterPattern, mask: BlockMask, c: BenchCase, inputs: Inputs, budget: number): { nnz: number; exact: boolean } {
  const unit = normalisedCentroids(p);
  const { seq: N, headDim: D, headsQ, headsKv } = c;
  const group = headsQ / headsKv;
  const exact = mask.stats.nnz * headsQ <= budget;
  const step = exact ? 1 : Math.max(1, Math.floor((N * headsQ) / 4096));
  let kept = 0;
  let rows = 0;
  const kLabels = new Map<number, Int32Array>();
  for (let h = 0; h < headsQ; h++) {
    const hk = Math.floor(h / group);
    let lk = kLabels.get(hk);
    if (!lk) {
      lk = labels(inputs.k, headsKv, N, D, hk, unit);
      kLabels.set(hk, lk);
    }
    for (let i = exact ? 0 : (h * 7919) % step; i < N; i += step) {
      const lq = clusterLabel(inputs.q.data, rowOffset('bhsd', headsQ, N, D, 0, h, i), unit, D);
      const keys = lk;
      forEachAllowedKey(mask, i, (j) => {
        if (keys[j] === lq) kept++;
      });
      rows++;
    }
  }
  return { nnz: exact ? kept : Math.round((kept / rows) * N * headsQ), exact };
}

/** Distinct key columns a compiled mask allows in any row (the union of the rows' keys). */
export function keysRead(mask: BlockMask): number {
  const seen = new Uint8Array(mask.seqK);
  for (let qb = 0; qb < mask.numQBlocks; qb++) {
    const rows = Math.min(mask.blockQ, mask.seqQ - qb * mask.blockQ);
    for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
      const j0 = mask.colIdx[n]! * mask.blockK;
      const width = Math.min(mask.blockK, mask.seqK - j0);
      const P = mask.partialIdx[n]!;
      if (P < 0) {
        seen.fill(1, j0, j0 + width);
        continue;
      }
      for (let r = 0; r < rows; r++) {
        const off = (P * mask.blockQ + r) * mask.wordsPerRow;
        for (let c = 0; c < width; c++) if ((mask.bits[off + (c >>> 5)]! >>> (c & 31)) & 1) seen[j0 + c] = 1;
      }
    }
  }
  let count = 0;
  for (let j = 0; j < seen.length; j++) count += seen[j]!;
  return count;
}

/** Bytes a case requires moving (float32): K and V rows of the keys read for every kv head, plus q and out. */
export function requiredBytes(c: Pick<BenchCase, 'headDim' | 'headsQ' | 'headsKv' | 'seq' | 'queries'>, keys: number): number {
  const D = c.headDim;
  return 4 * (c.headsKv * keys * 2 * D + c.headsQ * seqQ(c) * 2 * D);
}

export function caseStats(c: BenchCase, pattern: Pattern, inputs: Inputs | null, budget = 5e7): CaseStats {
  const N = c.seq;
  const Sq = seqQ(c);
  const mask = compileBlockMask(pattern, { seqQ: Sq, seqK: N, offset: N - Sq }, TILES);
  const candidate = mask.stats.nnz * c.headsQ;
  let nnz = candidate;
  let exact = true;
  if (pattern.kind === 'topk') {
    const counts = rowCounts(mask);
    let perHead = 0;
    for (let i = 0; i < Sq; i++) perHead += Math.min(pattern.k, counts[i]!);
    nnz = perHead * c.headsQ;
  } else if (pattern.kind === 'cluster') {
    if (!inputs) throw new Error('caseStats: a cluster workload needs its inputs to count kept pairs');
    ({ nnz, exact } = clusterPairs(pattern, mask, c, inputs, budget));
  }
  const all = c.headsQ * Sq * N;
  const s = mask.stats;
  const keys = keysRead(mask);
  return {
    nnz,
    density: nnz / all,
    candidateNnz: candidate,
    candidateDensity: candidate / all,
    exact,
    flops: 4 * nnz * c.headDim,
    mask: { bytes: s.bytes, fullBlocks: s.fullBlocks, partialBlocks: s.partialBlocks, skippedBlocks: s.skippedBlocks, blockEfficiency: s.blockEfficiency },
    ioBytes: 4 * c.headDim * (2 * c.headsQ * Sq + 2 * c.headsKv * N),
    denseScoreBytes: 4 * c.headsQ * Sq * N,
    keysRead: keys,
    requiredBytes: requiredBytes(c, keys),
  };
}
