import { type BlockMask, type ClusterPattern, compileBlockMask, type Pattern } from '@sparse/core';
import { clusterLabel, forEachAllowedKey, normalisedCentroids, rowOffset } from '@sparse/core/backend';
import type { Inputs } from './data.js';
import type { BenchCase } from './workloads.js';

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
  /** Hq · N² · 4: the score matrix a dense implementation materialises. */
  denseScoreBytes: number;
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

export function caseStats(c: BenchCase, pattern: Pattern, inputs: Inputs | null, budget = 5e7): CaseStats {
  const N = c.seq;
  const mask = compileBlockMask(pattern, { seqQ: N, seqK: N, offset: 0 }, TILES);
  const candidate = mask.stats.nnz * c.headsQ;
  let nnz = candidate;
  let exact = true;
  if (pattern.kind === 'topk') {
    const counts = rowCounts(mask);
    let perHead = 0;
    for (let i = 0; i < N; i++) perHead += Math.min(pattern.k, counts[i]!);
    nnz = perHead * c.headsQ;
  } else if (pattern.kind === 'cluster') {
    if (!inputs) throw new Error('caseStats: a cluster workload needs its inputs to count kept pairs');
    ({ nnz, exact } = clusterPairs(pattern, mask, c, inputs, budget));
  }
  const all = c.headsQ * N * N;
  const s = mask.stats;
  return {
    nnz,
    density: nnz / all,
    candidateNnz: candidate,
    candidateDensity: candidate / all,
    exact,
    flops: 4 * nnz * c.headDim,
    mask: { bytes: s.bytes, fullBlocks: s.fullBlocks, partialBlocks: s.partialBlocks, skippedBlocks: s.skippedBlocks, blockEfficiency: s.blockEfficiency },
    ioBytes: 4 * N * c.headDim * (2 * c.headsQ + 2 * c.headsKv),
    denseScoreBytes: 4 * c.headsQ * N * N,
  };
}
