/**
 * Attention patterns as plain JSON data (docs/design.md, Patterns). Indices: query i in [0, Sq), key j in [0, Sk); the query's
 * position in key coordinates is p = i + offset (offset = Sk - Sq unless the request sets queryOffset); δ = p - j.
 * Optional window sides (`left`, `right`) that are omitted are unbounded.
 */
export type Pattern =
  | DensePattern
  | CausalPattern
  | LocalPattern
  | DilatedPattern
  | BlockLocalPattern
  | NeighborhoodPattern
  | GlobalPattern
  | DocumentsPattern
  | RandomBlocksPattern
  | UnionPattern
  | IntersectPattern
  | NotPattern
  | ExplicitPattern
  | TopkPattern
  | ClusterPattern;

/** Every key. */
export interface DensePattern {
  kind: 'dense';
}
/** δ >= 0. */
export interface CausalPattern {
  kind: 'causal';
}
/** -right <= δ <= left (self is not counted in either side: width left + 1 + right). */
export interface LocalPattern {
  kind: 'local';
  left?: number;
  right?: number;
}
/** δ mod dilation == 0 and -right·dilation <= δ <= left·dilation; self included. */
export interface DilatedPattern {
  kind: 'dilated';
  dilation: number;
  left?: number;
  right?: number;
}
/** Block-aligned window (BigBird's sliding blocks): -right <= ⌊p/block⌋ - ⌊j/block⌋ <= left. */
export interface BlockLocalPattern {
  kind: 'blockLocal';
  block: number;
  left?: number;
  right?: number;
}
/** NATTEN 1-d neighborhood attention; needs Sq == Sk and offset 0. */
export interface NeighborhoodPattern {
  kind: 'neighborhood';
  kernel: number;
  dilation?: number;
  causal?: boolean;
}
/**
 * Longformer global attention. `tokens` are positions in key coordinates that are global both as queries (p)
 * and as keys (j); `{queries, keys}` gives query indices i and key indices j separately.
 */
export type GlobalPattern = { kind: 'global'; tokens: number[] } | { kind: 'global'; queries: number[]; keys: number[] };
/**
 * Packed documents, cu_seqlens style: `offsets` classify the query position p and the key j; `{q, k}` classify
 * the query index i by `q` and the key j by `k` (packed cross attention). Past the last offset is padding.
 */
export type DocumentsPattern = { kind: 'documents'; offsets: number[] } | { kind: 'documents'; q: number[]; k: number[] };
/** BigBird random blocks: per query block ⌊p/block⌋, `perRow` distinct key blocks drawn by core's PRNG. */
export interface RandomBlocksPattern {
  kind: 'randomBlocks';
  block: number;
  perRow: number;
  seed: number;
}
export interface UnionPattern {
  kind: 'union';
  of: Pattern[];
}
export interface IntersectPattern {
  kind: 'intersect';
  of: Pattern[];
}
export interface NotPattern {
  kind: 'not';
  of: Pattern;
}
/** CSR list of allowed keys per query index: keys of row i are colIdx[rowPtr[i] .. rowPtr[i+1]), increasing. */
export interface ExplicitPattern {
  kind: 'explicit';
  rowPtr: number[];
  colIdx: number[];
}
/** Content-based: the k largest scores among the keys `within` allows, ties to the smaller j. Root only. */
export interface TopkPattern {
  kind: 'topk';
  k: number;
  within?: Pattern;
}
/** Content-based routing with given centroids [C, D]: same cluster as the query, among `within`. Root only. */
export interface ClusterPattern {
  kind: 'cluster';
  centroids: number[][];
  within?: Pattern;
}

export type PatternKind = Pattern['kind'];

/** Patterns whose mask depends only on positions (everything but topk and cluster). */
export type StaticPattern = Exclude<Pattern, TopkPattern | ClusterPattern>;

export const PATTERN_KINDS: readonly PatternKind[] = [
  'dense',
  'causal',
  'local',
  'dilated',
  'blockLocal',
  'neighborhood',
  'global',
  'documents',
  'randomBlocks',
  'union',
  'intersect',
  'not',
  'explicit',
  'topk',
  'cluster',
];

export function isContentBased(p: Pattern): p is TopkPattern | ClusterPattern {
  return p.kind === 'topk' || p.kind === 'cluster';
}
