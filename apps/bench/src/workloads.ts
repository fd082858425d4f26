import { bigBird, local, longformer, type Pattern } from '@sparse/core';
import { mulberry32 } from '@sparse/core/reference';

/** The benchmark workloads. `window` is the attention window w each pattern derives its sizes from. */
export const PATTERN_NAMES = ['sliding', 'causal-sliding', 'dilated', 'longformer', 'bigbird', 'topk', 'cluster'] as const;
export type PatternName = (typeof PATTERN_NAMES)[number];

export interface Shape {
  /** Keys Sk; also the query rows Sq = N (self attention, B = 1) unless `queries` says otherwise. */
  seq: number;
  /**
   * Decode: Sq new tokens at the end of the sequence (bottom-right aligned, queryOffset = Sk − Sq) after a kv cache
   * of Sk − Sq tokens. Absent: prefill, Sq = Sk = seq.
   */
  queries?: number;
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
  if (s.queries !== undefined) return `decode/Sq${s.queries}/kv${s.seq - s.queries}/w${s.window}/D${s.headDim}/H${s.headsQ}:${s.headsKv}`;
  return `${pattern}/N${s.seq}/D${s.headDim}/H${s.headsQ}:${s.headsKv}/w${s.window}`;
}

export function makeCase(pattern: PatternName, s: Shape): BenchCase {
  return { id: caseId(pattern, s), pattern, ...s };
}

/** Query rows Sq of a case (N for prefill). */
export function seqQ(s: Pick<Shape, 'seq' | 'queries'>): number {
  return s.queries ?? s.seq;
}

export function isDecode(s: Pick<Shape, 'queries'>): boolean {
  return s.queries !== undefined;
}

export interface DecodeShape {
  /** New tokens Sq (1: token-by-token decode; 16: speculative or chunked). */
  newTokens: number;
  /** Tokens already in the kv cache; Sk = cache + Sq. */
  cache: number;
  /** Causal sliding window w (keys including the token's own). */
  window: number;
  headDim: number;
  headsQ: number;
  headsKv: number;
}

/**
 * A decode workload: Sq new tokens attend to the last w keys up to and including their own position, i.e.
 * local(w − 1, 0) with bottom-right alignment (queryOffset = Sk − Sq), over a kv cache of `cache` tokens plus the
 * new ones. Its pattern is the causal sliding window (`causal-sliding`).
 */
export function makeDecodeCase(d: DecodeShape): BenchCase {
  return makeCase('causal-sliding', {
    seq: d.cache + d.newTokens,
    queries: d.newTokens,
    headDim: d.headDim,
    headsQ: d.headsQ,
    headsKv: d.headsKv,
    window: d.window,
  });
}

/** The decode grid: Sq, kv cache lengths and causal windows of the Mistral / Gemma / Phi-3 kind. */
export const DECODE_NEW_TOKENS = [1, 16] as const;
export const DECODE_CACHES = [4096, 8192, 16384, 32768, 65536, 131072] as const;
export const DECODE_WINDOWS = [1024, 2048, 4096, 8192] as const;
export const DECODE_HEAD_DIMS = [64, 128] as const;
/** GQA 32:8, as in Mistral 7B and Llama 3 8B. */
export const DECODE_HEADS = { q: 32, kv: 8 } as const;
/** The headline decode case: 1 new token after a kv cache of 32768, Hq = 32, Hkv = 8, D = 128, window 4096. */
export const DECODE_HEADLINE: DecodeShape = { newTokens: 1, cache: 32768, window: 4096, headDim: 128, headsQ: 32, headsKv: 8 };
/** Short prefill beside the decode cases: causal window w = 256 at N = 1024 and 2048 on the same model shape. */
export const SHORT_PREFILL = { seqs: [1024, 2048], window: 256 } as const;

/** Every decode case of the grid (windows larger than the cache are left out: they are plain causal attention). */
export function decodeGrid(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const newTokens of DECODE_NEW_TOKENS)
    for (const cache of DECODE_CACHES)
      for (const window of DECODE_WINDOWS)
        for (const headDim of DECODE_HEAD_DIMS)
          if (window <= cache) out.push(makeDecodeCase({ newTokens, cache, window, headDim, headsQ: DECODE_HEADS.q, headsKv: DECODE_HEADS.kv }));
  return out;
}

/**
 * The default decode subset: the headline case; the same with 16 new tokens; the kv cache from 4096 to 131072
 * (1 token, D = 128, w = 4096); windows 1024 and 8192 at the headline cache; D = 64 at the headline.
 */
export function decodeDefault(): BenchCase[] {
  const h = DECODE_HEADLINE;
  const shapes: DecodeShape[] = [
    h,
    { ...h, newTokens: 16 },
    ...[4096, 131072].map((cache) => ({ ...h, cache })),
    ...[1024, 8192].map((window) => ({ ...h, window })),
    { ...h, headDim: 64 },
  ];
  return shapes.map(makeDecodeCase);
}

/** The short-prefill cases (causal window w = 256, N = 1024 and 2048) at the decode model's heads and head dims. */
export function shortPrefill(headDims: readonly number[] = [128]): BenchCase[] {
  const out: BenchCase[] = [];
  for (const seq of SHORT_PREFILL.seqs)
    for (const headDim of headDims)
      out.push(makeCase('causal-sliding', { seq, headDim, headsQ: DECODE_HEADS.q, headsKv: DECODE_HEADS.kv, window: SHORT_PREFILL.window }));
  return out;
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

/** One line saying what the case is: the pattern's conventions, and for decode the cache and the alignment. */
export function describeCase(c: BenchCase): string {
  const p = describePattern(c.pattern, c.window);
  if (!isDecode(c)) return p;
  const q = seqQ(c);
  return `decode: ${q} new token${q > 1 ? 's' : ''} after a kv cache of ${c.seq - q} (Sk = ${c.seq}), bottom-right aligned (queryOffset = Sk − Sq = ${c.seq - q}); ${p}`;
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
