// The head table every kernel reads: one row of HEAD_WORDS 32-bit words per query head, pointing into the
// concatenated arrays of the distinct compiled masks (and the unit centroids of cluster heads). This file is the
// one definition of its layout: the WGSL is built from these constants, and the AssemblyScript and C++ sources
// get them from headTableSource(), generated at build time.
import type { BlockMask, BlockMaskCache, TileSizes } from '../compile/blockmask.js';
import { patternKey } from '../pattern/canonical.js';
import type { Pattern } from '../pattern/types.js';
import { normalisedCentroids } from '../reference/content.js';
import type { AttentionPlan } from '../request.js';

/** Word of each field in a head's row. Offsets count elements of the array they point into. */
export const HEAD_FIELD = {
  /** Offset of the head's mask in `rowPtr` (numQBlocks + 1 entries). */
  rowPtr: 0,
  /** Offset of the head's mask in `colIdx` and in `partialIdx` (the two run in parallel). */
  colIdx: 1,
  /** Offset of the head's mask in `bits`. */
  bits: 2,
  /** How the head picks keys: a HEAD_MODE. */
  mode: 3,
  /** Top-k: k. Cluster: the number of centroids C. Static: 0. */
  param: 4,
  /** Cluster: offset of its C × D unit centroids in `centroids`. */
  centroids: 5,
  /** Cluster: index of the (centroids, kv head) pair whose key labels it reads, in `labelGroups`. */
  labels: 6,
} as const;

/** Words per head row (one spare word, so rows stay 8-word aligned). */
export const HEAD_WORDS = 8;

export const HEAD_MODE = { static: 0, topk: 1, cluster: 2 } as const;

/** A cluster head's keys are labelled once per distinct (centroids, kv head) pair. */
export interface LabelGroup {
  /** Offset of the centroids in `centroids`, and their count. */
  centroids: number;
  count: number;
  /** kv head whose keys are labelled. */
  kvHead: number;
}

export interface HeadTable {
  /** HEAD_WORDS words per query head. */
  heads: Int32Array;
  /** The distinct masks, in the order of the concatenated arrays, and the mask of each head (index). */
  masks: BlockMask[];
  headMask: Int32Array;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  partialIdx: Int32Array;
  bits: Uint32Array;
  /** Unit-normalised centroids (float64) of the distinct cluster patterns, C × D each. */
  centroids: Float64Array;
  labelGroups: LabelGroup[];
  hasTopk: boolean;
  hasCluster: boolean;
  /** Allowed (query, key) pairs of one batch entry over all heads (a content head counts its `within`). */
  nnz: number;
}

/**
 * Packs the head table of a plan: one compiled mask per distinct pattern (through the cache; heads whose
 * patterns are equal share it, whatever their object identity), concatenated, and one row per query head.
 */
export function packHeadTable(plan: AttentionPlan, cache: BlockMaskCache, tiles: TileSizes): HeadTable {
  const shape = { seqQ: plan.seqQ, seqK: plan.seqK, offset: plan.offset };
  const keyOf = new Map<Pattern, string>();
  const key = (p: Pattern) => {
    let k = keyOf.get(p);
    if (k === undefined) keyOf.set(p, (k = patternKey(p)));
    return k;
  };
  const maskIndex = new Map<string, number>();
  const masks: BlockMask[] = [];
  const offsets: { rowPtr: number; colIdx: number; bits: number }[] = [];
  const centroidAt = new Map<string, { at: number; count: number }>();
  const centroidParts: Float64Array[] = [];
  const labelIndex = new Map<string, number>();
  const labelGroups: LabelGroup[] = [];
  let rowPtrLen = 0;
  let colLen = 0;
  let bitsLen = 0;
  let centroidLen = 0;
  const heads = new Int32Array(plan.headsQ * HEAD_WORDS);
  const headMask = new Int32Array(plan.headsQ);
  let hasTopk = false;
  let hasCluster = false;
  let nnz = 0;

  plan.patterns.forEach((pattern, h) => {
    const k = key(pattern);
    let m = maskIndex.get(k);
    if (m === undefined) {
      const mask = cache.get(pattern, shape, tiles);
      m = masks.length;
      masks.push(mask);
      maskIndex.set(k, m);
      offsets.push({ rowPtr: rowPtrLen, colIdx: colLen, bits: bitsLen });
      rowPtrLen += mask.rowPtr.length;
      colLen += mask.colIdx.length;
      bitsLen += mask.bits.length;
    }
    headMask[h] = m;
    nnz += masks[m]!.stats.nnz;
    const row = h * HEAD_WORDS;
    heads[row + HEAD_FIELD.rowPtr] = offsets[m]!.rowPtr;
    heads[row + HEAD_FIELD.colIdx] = offsets[m]!.colIdx;
    heads[row + HEAD_FIELD.bits] = offsets[m]!.bits;
    heads[row + HEAD_FIELD.mode] = HEAD_MODE.static;
    heads[row + HEAD_FIELD.labels] = -1;
    if (pattern.kind === 'topk') {
      hasTopk = true;
      heads[row + HEAD_FIELD.mode] = HEAD_MODE.topk;
      heads[row + HEAD_FIELD.param] = pattern.k;
    } else if (pattern.kind === 'cluster') {
      hasCluster = true;
      let c = centroidAt.get(k);
      if (!c) {
        const unit = normalisedCentroids(pattern);
        c = { at: centroidLen, count: pattern.centroids.length };
        centroidAt.set(k, c);
        centroidParts.push(unit);
        centroidLen += unit.length;
      }
      const kvHead = Math.floor(h / plan.group);
      const lk = `${c.at}:${kvHead}`;
      let g = labelIndex.get(lk);
      if (g === undefined) {
        g = labelGroups.length;
        labelGroups.push({ centroids: c.at, count: c.count, kvHead });
        labelIndex.set(lk, g);
      }
      heads[row + HEAD_FIELD.mode] = HEAD_MODE.cluster;
      heads[row + HEAD_FIELD.param] = c.count;
      heads[row + HEAD_FIELD.centroids] = c.at;
      heads[row + HEAD_FIELD.labels] = g;
    }
  });

  const rowPtr = new Int32Array(rowPtrLen);
  const colIdx = new Int32Array(colLen);
  const partialIdx = new Int32Array(colLen);
  const bits = new Uint32Array(bitsLen);
  masks.forEach((mask, m) => {
    const o = offsets[m]!;
    rowPtr.set(mask.rowPtr, o.rowPtr);
    colIdx.set(mask.colIdx, o.colIdx);
    partialIdx.set(mask.partialIdx, o.colIdx);
    bits.set(mask.bits, o.bits);
  });
  const centroids = new Float64Array(centroidLen);
  let at = 0;
  for (const part of centroidParts) {
    centroids.set(part, at);
    at += part.length;
  }
  return { heads, masks, headMask, rowPtr, colIdx, partialIdx, bits, centroids, labelGroups, hasTopk, hasCluster, nnz };
}

const constName = (field: string) => `HEAD_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * The head-table constants as source code of a kernel language, generated from this file's definition:
 * `assemblyscript` (export const … : i32), `c` (constexpr int in a header), `wgsl` (const … : u32).
 */
export function headTableSource(language: 'assemblyscript' | 'c' | 'wgsl'): string {
  const entries: [string, number][] = [
    ...Object.entries(HEAD_FIELD).map(([f, v]): [string, number] => [constName(f), v]),
    ['HEAD_WORDS', HEAD_WORDS],
    ...Object.entries(HEAD_MODE).map(([m, v]): [string, number] => [`MODE_${m.toUpperCase()}`, v]),
  ];
  const line = (name: string, value: number) =>
    language === 'assemblyscript'
      ? `export const ${name}: i32 = ${value};`
      : language === 'c'
        ? `constexpr int ${name} = ${value};`
        : `const ${name}: u32 = ${value}u;`;
  const body = entries.map(([n, v]) => line(n, v)).join('\n');
  if (language === 'wgsl') return `${body}\n`;
  const banner = '// Generated from @sparse/core/backend (headTableSource): the head-table layout. Do not edit.';
  return language === 'c' ? `${banner}\n#pragma once\n\n${body}\n` : `${banner}\n\n${body}\n`;
}
