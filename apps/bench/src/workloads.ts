import { bigBird, local, longformer, type Pattern } from '@sparse/core';
import { mulberry32 } from '@sparse/core/reference';

/** The benchmark workloads. `window` is the attention window w each pattern derives its sizes from. */
export const PATTERN_NAMES = ['sliding', 'causal-sliding', 'dilated', 'longformer', 'bigbird', 'topk', 'cluster'] as const;
export type PatternName = (typeof PATTERN_NAMES)[number];

export interface Shape {
  /** N = Sq = Sk (self attention, B = 1). */
  seq: number;
  headDim: number;
  headsQ: number;
  headsKv: number;
  window: number;
}

export interface BenchCase extends Shape {
  id: string;
  pattern: PatternName;
}

export const BIGBIRD_BLOCK = 64;
export const LONGFORMER_GLOBALS = 8;
export const DILATION = 4;
export const CLUSTERS = 4;

export function isPatternName(s: string): s is PatternName {
  return (PATTERN_NAMES as readonly string[]).includes(s);
}

export function caseId(pattern: PatternName, s: Shape): string {
  return `${pattern}/N${s.seq}/D${s.headDim}/H${s.headsQ}:${s.headsKv}/w${s.window}`;
}

export function makeCase(pattern: PatternName, s: Shape): BenchCase {
  return { id: caseId(pattern, s), pattern, ...s };
}

/** top-k keeps k = max(8, w / 8) keys per row among the sliding window. */
export function topkK(window: number): number {
  return Math.max(8, Math.floor(window / 8));
}

/** Deterministic centroids [C][D] for the cluster workload. */
export function clusterCentroids(count: number, dim: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => Array.from({ length: dim }, () => (rand() / 2 ** 32) * 2 - 1));
}

/** The pattern of a workload (the same for every head). */
export function buildPattern(c: Pick<BenchCase, 'pattern' | 'seq' | 'headDim' | 'window'>): Pattern {
  const w = c.window;
  const half = Math.max(1, Math.floor(w / 2));
  switch (c.pattern) {
    case 'sliding':
      return local(half, half);
    case 'causal-sliding':
      return local(w - 1, 0);
    case 'dilated':
      return { kind: 'dilated', dilation: DILATION, left: half, right: half };
    case 'longformer':
      return longformer({ attentionWindow: 2 * half, globalTokens: Array.from({ length: Math.min(LONGFORMER_GLOBALS, c.seq) }, (_, n) => n) });
    case 'bigbird':
      return bigBird({ block: BIGBIRD_BLOCK, windowBlocks: 3, randomPerRow: 3, seed: 7, seqLen: c.seq });
    case 'topk':
      return { kind: 'topk', k: topkK(w), within: local(half, half) };
    case 'cluster':
      return { kind: 'cluster', centroids: clusterCentroids(CLUSTERS, c.headDim, 11), within: local(half, half) };
  }
}

/** One line saying what the workload is, with its conventions. */
export function describePattern(name: PatternName, window: number): string {
  const half = Math.max(1, Math.floor(window / 2));
  switch (name) {
    case 'sliding':
      return `local L=R=${half} (w=${window}, ${2 * half + 1} keys)`;
    case 'causal-sliding':
      return `causal sliding window of ${window} keys incl. self (local L=${window - 1}, R=0; HF sliding_window=${window}, ORT local_window_size=${window})`;
    case 'dilated':
      return `dilated d=${DILATION}, L=R=${half} (${2 * half + 1} keys over ±${half * DILATION})`;
    case 'longformer':
      return `Longformer window ${2 * half} (L=R=${half}) + ${LONGFORMER_GLOBALS} global tokens`;
    case 'bigbird':
      return `BigBird block ${BIGBIRD_BLOCK}: 3 window blocks, 3 random blocks, first/last block global (w unused)`;
    case 'topk':
      return `top-k k=${topkK(window)} within local L=R=${half}`;
    case 'cluster':
      return `cluster routing, ${CLUSTERS} centroids, within local L=R=${half}`;
  }
}
