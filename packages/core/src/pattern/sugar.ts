import { fail } from '../errors.js';
import type { DilatedPattern, LocalPattern, Pattern } from './types.js';

/** Plain constructors for the kinds (typed data, nothing more). */
export const dense = (): Pattern => ({ kind: 'dense' });
export const causal = (): Pattern => ({ kind: 'causal' });
export const union = (...of: Pattern[]): Pattern => ({ kind: 'union', of });
export const intersect = (...of: Pattern[]): Pattern => ({ kind: 'intersect', of });
export const not = (of: Pattern): Pattern => ({ kind: 'not', of });
export const globalTokens = (tokens: number[]): Pattern => ({ kind: 'global', tokens });
export const topk = (k: number, within?: Pattern): Pattern => (within ? { kind: 'topk', k, within } : { kind: 'topk', k });
export const cluster = (centroids: number[][], within?: Pattern): Pattern => (within ? { kind: 'cluster', centroids, within } : { kind: 'cluster', centroids });
export const randomBlocks = (block: number, perRow: number, seed: number): Pattern => ({ kind: 'randomBlocks', block, perRow, seed });
export const neighborhood = (kernel: number, options: { dilation?: number; causal?: boolean } = {}): Pattern => ({ kind: 'neighborhood', kernel, ...options });

/**
 * Local self-attention with k: every key within distance k on either side, self included
 * (`local(k)` is L = R = k, width 2k + 1). `local(left, right)` sets the two sides separately.
 */
export function local(left: number, right: number = left): LocalPattern {
  return { kind: 'local', left, right };
}

/**
 * Atrous self-attention with k: keys at relative distance 0, k, 2k, 3k, … on both sides. On [A, B, C, D, E]
 * with k = 2, A attends A, C and E (a worked example often given says B and D, which contradicts the definition;
 * we follow the definition, as Longformer and NATTEN do; see docs/patterns.md).
 */
export function atrous(k: number, options: { left?: number; right?: number } = {}): DilatedPattern {
  return { kind: 'dilated', dilation: k, ...options };
}

function evenWindow(w: number, field: string): number {
  if (!Number.isInteger(w) || w < 0 || w % 2 !== 0)
    fail('INVALID_PATTERN', field, 'must be a non-negative even integer (the total window, w/2 on each side)', w);
  return w / 2;
}

/**
 * Longformer: a sliding window of `attentionWindow` keys in all (w/2 on each side, HF's convention), optionally
 * a dilated window (w/2 on each side, every `dilation`-th key) on top of it, and symmetric global tokens.
 */
export function longformer(options: { attentionWindow: number; globalTokens?: number[]; dilation?: number }): Pattern {
  const half = evenWindow(options.attentionWindow, 'longformer.attentionWindow');
  const of: Pattern[] = [local(half)];
  if (options.dilation !== undefined && options.dilation > 1) of.push({ kind: 'dilated', dilation: options.dilation, left: half, right: half });
  if (options.globalTokens?.length) of.push({ kind: 'global', tokens: options.globalTokens });
  return of.length === 1 ? of[0]! : union(...of);
}

/**
 * BigBird (ITC): block-aligned sliding window (`windowBlocks` blocks, odd, centred), global tokens (the first
 * block by default, and the last block when `seqLen` is given) and `randomPerRow` random key blocks per query
 * block drawn with `seed`.
 */
export function bigBird(options: {
  block: number;
  windowBlocks?: number;
  randomPerRow?: number;
  seed?: number;
  globalTokens?: number[];
  seqLen?: number;
}): Pattern {
  const { block } = options;
  const windowBlocks = options.windowBlocks ?? 3;
  if (!Number.isInteger(windowBlocks) || windowBlocks < 1 || windowBlocks % 2 === 0)
    fail('INVALID_PATTERN', 'bigBird.windowBlocks', 'must be a positive odd integer', windowBlocks);
  const side = (windowBlocks - 1) / 2;
  let globals = options.globalTokens;
  if (!globals) {
    globals = Array.from({ length: block }, (_, n) => n);
    if (options.seqLen !== undefined) {
      const lastStart = Math.max(block, Math.floor((options.seqLen - 1) / block) * block);
      for (let t = lastStart; t < options.seqLen; t++) globals.push(t);
    }
  }
  const of: Pattern[] = [{ kind: 'blockLocal', block, left: side, right: side }];
  if (globals.length) of.push({ kind: 'global', tokens: globals });
  const perRow = options.randomPerRow ?? 3;
  if (perRow > 0) of.push({ kind: 'randomBlocks', block, perRow, seed: options.seed ?? 0 });
  return union(...of);
}

/** Sparse Transformer "strided" (Child et al. 2019), causal: the previous `stride` keys and every stride-th key. */
export function sparseTransformerStrided(stride: number): Pattern {
  return union(local(stride - 1, 0), { kind: 'dilated', dilation: stride, right: 0 });
}

/**
 * Sparse Transformer "fixed", causal: keys in the query's own block of `stride` tokens, plus the last `summary`
 * (c) positions of every block as summary columns. Needs the key length to list the summary columns.
 */
export function sparseTransformerFixed(stride: number, summary: number, seqLen: number): Pattern {
  const keys: number[] = [];
  for (let j = 0; j < seqLen; j++) if (j % stride >= stride - summary) keys.push(j);
  return intersect(causal(), union({ kind: 'blockLocal', block: stride, left: 0, right: 0 }, { kind: 'global', queries: [], keys }));
}

/** Causal sliding window of `window` keys, self included: the query and the window - 1 keys before it. */
export function slidingWindowCausal(window: number): LocalPattern {
  if (!Number.isInteger(window) || window < 1) fail('INVALID_PATTERN', 'slidingWindowCausal.window', 'must be a positive integer', window);
  return local(window - 1, 0);
}

/** Prefix-LM: the first `prefix` keys are seen by every query (bidirectional prefix), causal after it. */
export function prefixLM(prefix: number): Pattern {
  return union(causal(), { kind: 'global', queries: [], keys: Array.from({ length: prefix }, (_, n) => n) });
}

/**
 * Packed documents (padding removal): `lengths` of consecutive documents; tokens after them are padding.
 * With `causal` each document is causal inside.
 */
export function documents(lengths: number[], options: { causal?: boolean } = {}): Pattern {
  const offsets = [0];
  lengths.forEach((n, d) => {
    if (!Number.isInteger(n) || n < 0) fail('INVALID_PATTERN', `documents.lengths[${d}]`, 'must be a non-negative integer', n);
    offsets.push(offsets[offsets.length - 1]! + n);
  });
  const docs: Pattern = { kind: 'documents', offsets };
  return options.causal ? intersect(docs, causal()) : docs;
}

export type { LocalPattern };
