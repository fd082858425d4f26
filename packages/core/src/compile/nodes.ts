import { drawKeyBlocks } from '../pattern/prng.js';
import { documentOf, groupSize, lowerBound, neighborhoodStart, sortedHas, sortedSet } from '../pattern/semantics.js';
import type { Pattern } from '../pattern/types.js';
import { popcount32, setBit, setBitRange, setStridedBits } from './bits.js';
import { combineRuns, constantRuns, EMPTY, FULL, invertRuns, maxOp, mergeIntervals, minOp, PARTIAL, type Runs, runsFromIntervals } from './runs.js';

/** Geometry a node is compiled for. */
export interface Geometry {
  seqQ: number;
  seqK: number;
  offset: number;
  blockQ: number;
  blockK: number;
  numKBlocks: number;
  /** Words per tile row: ceil(blockK / 32). */
  words: number;
}

/**
 * A compiled pattern node. `runs` classifies every key block for the query rows [i0, i1) analytically
 * (conservatively: a block it calls PARTIAL may turn out empty or full, which the compiler settles from bits);
 * `tile` ORs the allowed pairs of rows [i0, i1) × keys [j0, j0 + width) into out (row r at r · words).
 */
export interface Node {
  runs(i0: number, i1: number): Runs;
  tile(i0: number, i1: number, j0: number, width: number, out: Uint32Array): void;
  /** A shared, already-counted tile when this node's tile here repeats one seen before (see memoTiles). */
  memo?(i0: number, i1: number, j0: number, width: number): MemoTile | null;
  /** Cheap proof that the tile is empty (no allowed pair), where the node has one. */
  emptyTile?(i0: number, i1: number, j0: number, width: number): boolean;
  /** The node's pairs depend on p - j only. */
  invariant?: boolean;
}

/** A memoised tile: its bits, its popcount, and where the compiler stored it (-1 until stored). */
export interface MemoTile {
  bits: Uint32Array;
  count: number;
  stored: number;
}

type RowBits = (i: number, j0: number, width: number, out: Uint32Array, off: number) => void;

function tileFromRows(bits: RowBits, words: number): Node['tile'] {
  return (i0, i1, j0, width, out) => {
    for (let i = i0; i < i1; i++) bits(i, j0, width, out, (i - i0) * words);
  };
}

/**
 * Tiles of a translation-invariant node (its pairs depend on p - j only) repeat along the diagonals: interior
 * tiles are computed once per (j0 - p0) and copied afterwards. This is what keeps compiling a 131072-token
 * band in milliseconds.
 */
function memoTiles(node: Node, g: Geometry): Node {
  const memo = new Map<number, MemoTile>();
  const size = g.blockQ * g.words;
  const empty: MemoTile = { bits: new Uint32Array(size), count: 0, stored: -1 };
  const lookup = (i0: number, i1: number, j0: number, width: number): MemoTile | null => {
    if (i1 - i0 !== g.blockQ || width !== g.blockK) return null;
    if (node.emptyTile?.(i0, i1, j0, width)) return empty;
    const key = j0 - (i0 + g.offset);
    let t = memo.get(key);
    if (!t) {
      if (memo.size >= 4096) memo.clear();
      const bits = new Uint32Array(size);
      node.tile(i0, i1, j0, width, bits);
      let count = 0;
      for (let n = 0; n < size; n++) if (bits[n] !== 0) count += popcount32(bits[n]!);
      t = { bits, count, stored: -1 };
      memo.set(key, t);
    }
    return t;
  };
  return {
    runs: node.runs,
    invariant: true,
    memo: lookup,
    emptyTile: node.emptyTile,
    tile(i0, i1, j0, width, out) {
      if (node.emptyTile?.(i0, i1, j0, width)) return;
      const t = lookup(i0, i1, j0, width);
      if (!t) {
        node.tile(i0, i1, j0, width, out);
        return;
      }
      const bits = t.bits;
      for (let n = 0; n < size; n++) out[n]! |= bits[n]!;
    },
  };
}

/**
 * A union: its translation-invariant members are grouped under one memoised node, so that a tile where the other
 * members prove themselves empty is a lookup, not a computation.
 */
function unionNode(kids: Node[], g: Geometry): Node {
  const fixed = kids.filter((k) => k.invariant);
  const others = kids.filter((k) => !k.invariant);
  const members = fixed.length >= 2 && others.length > 0 ? [memoTiles(unionNode(fixed, g), g), ...others] : kids;
  const runs = (i0: number, i1: number): Runs =>
    members.reduce<Runs | null>((acc, k) => (acc ? combineRuns(acc, k.runs(i0, i1), maxOp, g.numKBlocks) : k.runs(i0, i1)), null)!;
  const node: Node = {
    runs,
    invariant: others.length === 0,
    tile(i0, i1, j0, width, out) {
      for (const k of members) if (!k.emptyTile?.(i0, i1, j0, width)) k.tile(i0, i1, j0, width, out);
    },
  };
  if (members.every((k) => k.emptyTile)) node.emptyTile = (i0, i1, j0, width) => members.every((k) => k.emptyTile!(i0, i1, j0, width));
  const lead = members[0]!;
  if (lead.memo && members.slice(1).every((k) => k.emptyTile)) {
    node.memo = (i0, i1, j0, width) => (members.every((k, n) => n === 0 || k.emptyTile!(i0, i1, j0, width)) ? lead.memo!(i0, i1, j0, width) : null);
  }
  return node;
}

/** A band lo(p) <= j <= hi(p) with lo, hi non-decreasing in p, optionally restricted to j ≡ p (mod step). */
function bandNode(g: Geometry, lo: (p: number) => number, hi: (p: number) => number, step = 1): Node {
  const { offset, seqK, blockK, numKBlocks } = g;
  return {
    runs(i0, i1) {
      const pa = i0 + offset;
      const pb = i1 - 1 + offset;
      const c0 = Math.max(lo(pa), 0);
      const c1 = Math.min(hi(pb), seqK - 1);
      if (c0 > c1) return constantRuns(EMPTY);
      const partial = [Math.floor(c0 / blockK), Math.floor(c1 / blockK) + 1];
      const r = runsFromIntervals(partial, PARTIAL, numKBlocks);
      if (step !== 1) return r;
      const f0 = Math.max(lo(pb), 0);
      const f1 = Math.min(hi(pa), seqK - 1);
      if (f0 > f1) return r;
      const first = Math.ceil(f0 / blockK);
      const end = f1 >= seqK - 1 ? numKBlocks : Math.floor((f1 + 1) / blockK);
      if (end <= first) return r;
      return combineRuns(r, runsFromIntervals([first, end], FULL, numKBlocks), maxOp, numKBlocks);
    },
    emptyTile: (i0, i1, j0, width) => lo(i0 + offset) > j0 + width - 1 || hi(i1 - 1 + offset) < j0,
    tile: tileFromRows((i, j0, width, out, off) => {
      const p = i + offset;
      const a = Math.max(lo(p), j0, 0);
      const b = Math.min(hi(p), j0 + width - 1, seqK - 1);
      if (a > b) return;
      if (step === 1) setBitRange(out, off, a - j0, b - j0);
      else setStridedBits(out, off, a - j0 + ((((p - a) % step) + step) % step), b - j0, step);
    }, g.words),
  };
}

/** Allowed keys of a row are a sorted list of key intervals given by `intervalsOf(i)`; classification is PARTIAL. */
function listNode(g: Geometry, rowIntervals: (i: number, sink: number[]) => void, blockRuns?: (i0: number, i1: number) => Runs): Node {
  const { seqK, blockK, numKBlocks } = g;
  const sink: number[] = [];
  return {
    runs:
      blockRuns ??
      ((i0, i1) => {
        const blocks: number[] = [];
        for (let i = i0; i < i1; i++) {
          sink.length = 0;
          rowIntervals(i, sink);
          for (let n = 0; n < sink.length; n += 2) blocks.push(Math.floor(sink[n]! / blockK), Math.floor((sink[n + 1]! - 1) / blockK) + 1);
        }
        return runsFromIntervals(mergeIntervals(blocks), PARTIAL, numKBlocks);
      }),
    tile: tileFromRows((i, j0, width, out, off) => {
      sink.length = 0;
      rowIntervals(i, sink);
      const j1 = Math.min(j0 + width, seqK);
      for (let n = 0; n < sink.length; n += 2) {
        const a = Math.max(sink[n]!, j0);
        const b = Math.min(sink[n + 1]!, j1);
        if (a < b) setBitRange(out, off, a - j0, b - 1 - j0);
      }
    }, g.words),
  };
}

function neighborhoodNode(g: Geometry, kernel: number, d: number, causal: boolean): Node {
  const n = g.seqK;
  if (d === 1) {
    if (causal)
      return bandNode(
        g,
        (p) => p - kernel + 1,
        (p) => p,
      );
    const width = Math.min(kernel, n);
    return bandNode(
      g,
      (p) => neighborhoodStart(p, n, kernel),
      (p) => neighborhoodStart(p, n, kernel) + width - 1,
    );
  }
  // Dilated: keys of row i are the group-index window of its residue class, every d-th key.
  const window = (i: number): [number, number] => {
    const r = i % d;
    const gi = Math.floor(i / d);
    if (causal) return [Math.max(gi - kernel + 1, 0), gi];
    const size = groupSize(n, d, r);
    const start = neighborhoodStart(gi, size, kernel);
    return [start, start + Math.min(kernel, size) - 1];
  };
  return {
    runs(i0, i1) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = i0; i < i1; i++) {
        const [a, b] = window(i);
        lo = Math.min(lo, a * d + (i % d));
        hi = Math.max(hi, b * d + (i % d));
      }
      return runsFromIntervals([Math.floor(lo / g.blockK), Math.floor(hi / g.blockK) + 1], PARTIAL, g.numKBlocks);
    },
    tile: tileFromRows((i, j0, width, out, off) => {
      const r = i % d;
      const [a, b] = window(i);
      const first = Math.max(a, Math.ceil((j0 - r) / d)) * d + r;
      const last = Math.min(b * d + r, j0 + width - 1, n - 1);
      setStridedBits(out, off, first - j0, last - j0, d);
    }, g.words),
  };
}

/** Global queries (sorted, matched against i + shift) see every key; global keys (sorted) are seen by every query. */
function globalNode(g: Geometry, queries: Int32Array, shift: number, keys: Int32Array): Node {
  const { seqK, blockK, numKBlocks } = g;
  const queryIsGlobal = (i: number) => sortedHas(queries, i + shift);
  const countGlobalRows = (i0: number, i1: number) => lowerBound(queries, i1 + shift) - lowerBound(queries, i0 + shift);
  return {
    runs(i0, i1) {
      const count = countGlobalRows(i0, i1);
      if (count === i1 - i0) return constantRuns(FULL);
      if (count > 0) return constantRuns(PARTIAL);
      const blocks: number[] = [];
      for (let n = 0; n < keys.length; n++) {
        const kb = Math.floor(keys[n]! / blockK);
        if (blocks.length && blocks[blocks.length - 1] === kb) blocks[blocks.length - 1] = kb + 1;
        else if (blocks.length && blocks[blocks.length - 1]! > kb) continue;
        else blocks.push(kb, kb + 1);
      }
      return runsFromIntervals(blocks, PARTIAL, numKBlocks);
    },
    emptyTile(i0, i1, j0, width) {
      const n = lowerBound(keys, j0);
      return !(n < keys.length && keys[n]! < j0 + width) && countGlobalRows(i0, i1) === 0;
    },
    tile(i0, i1, j0, width, out) {
      const j1 = Math.min(j0 + width, seqK);
      const firstKey = lowerBound(keys, j0);
      const anyKeys = firstKey < keys.length && keys[firstKey]! < j1;
      if (!anyKeys && countGlobalRows(i0, i1) === 0) return;
      for (let i = i0; i < i1; i++) {
        const off = (i - i0) * g.words;
        if (queryIsGlobal(i)) {
          if (j1 > j0) setBitRange(out, off, 0, j1 - 1 - j0);
          continue;
        }
        for (let n = firstKey; n < keys.length && keys[n]! < j1; n++) setBit(out, off, keys[n]! - j0);
      }
    },
  };
}

function documentsNode(g: Geometry, qOffsets: number[], kOffsets: number[], qShift: number): Node {
  const { seqK, blockK, numKBlocks } = g;
  const docs = qOffsets.length - 1;
  const keyRange = (d: number): [number, number] => [kOffsets[d]!, Math.min(kOffsets[d + 1]!, seqK) - 1];
  return listNode(
    g,
    (i, sink) => {
      const d = documentOf(qOffsets, i + qShift);
      if (d < 0) return;
      const [a, b] = keyRange(d);
      if (a <= b) sink.push(a, b + 1);
    },
    (i0, i1) => {
      const xa = i0 + qShift;
      const xb = i1 - 1 + qShift;
      let d = documentOf(qOffsets, Math.max(xa, 0));
      let r = constantRuns(EMPTY);
      if (d < 0) return r;
      for (; d < docs && qOffsets[d]! <= xb; d++) {
        if (qOffsets[d + 1]! <= Math.max(xa, qOffsets[d]!)) continue; // empty document or rows past it
        const [a, b] = keyRange(d);
        if (a > b) continue;
        r = combineRuns(r, runsFromIntervals([Math.floor(a / blockK), Math.floor(b / blockK) + 1], PARTIAL, numKBlocks), maxOp, numKBlocks);
        if (xa >= qOffsets[d]! && xb < qOffsets[d + 1]!) {
          const first = Math.ceil(a / blockK);
          const end = b >= seqK - 1 ? numKBlocks : Math.floor((b + 1) / blockK);
          if (end > first) r = combineRuns(r, runsFromIntervals([first, end], FULL, numKBlocks), maxOp, numKBlocks);
        }
      }
      return r;
    },
  );
}

function randomBlocksNode(g: Geometry, block: number, perRow: number, seed: number): Node {
  const { offset, seqK, blockK, numKBlocks } = g;
  const m = Math.ceil(seqK / block);
  const memo = new Map<number, Int32Array>();
  const drawn = (qb: number): Int32Array => {
    let d = memo.get(qb);
    if (!d) {
      d = drawKeyBlocks(seed, qb, m, perRow);
      memo.set(qb, d);
    }
    return d;
  };
  const node = listNode(g, (i, sink) => {
    for (const kb of drawn(Math.floor((i + offset) / block))) sink.push(kb * block, Math.min((kb + 1) * block, seqK));
  });
  return {
    tile: node.tile,
    runs(i0, i1) {
      const qa = Math.floor((i0 + offset) / block);
      const qz = Math.floor((i1 - 1 + offset) / block);
      const keyRanges: number[] = [];
      for (let qb = qa; qb <= qz; qb++) for (const kb of drawn(qb)) keyRanges.push(kb * block, Math.min((kb + 1) * block, seqK));
      const ranges = mergeIntervals(keyRanges);
      const partial: number[] = [];
      for (let n = 0; n < ranges.length; n += 2) partial.push(Math.floor(ranges[n]! / blockK), Math.floor((ranges[n + 1]! - 1) / blockK) + 1);
      const r = runsFromIntervals(mergeIntervals(partial), PARTIAL, numKBlocks);
      if (qa !== qz) return r;
      // One pattern block covers every row: tiles inside a drawn key range are full.
      const full: number[] = [];
      for (let n = 0; n < ranges.length; n += 2) {
        const first = Math.ceil(ranges[n]! / blockK);
        const end = ranges[n + 1]! >= seqK ? numKBlocks : Math.floor(ranges[n + 1]! / blockK);
        if (end > first) full.push(first, end);
      }
      return full.length ? combineRuns(r, runsFromIntervals(full, FULL, numKBlocks), maxOp, numKBlocks) : r;
    },
  };
}

/** Scratch rows for nodes that combine their children's bits. */
function scratch(size: number): () => Uint32Array {
  const buf = new Uint32Array(size);
  return () => buf.fill(0);
}

/** Builds the compiled node tree of a static pattern. */
export function buildNode(p: Pattern, g: Geometry): Node {
  const { offset, numKBlocks } = g;
  switch (p.kind) {
    case 'dense':
      return bandNode(
        g,
        () => -Infinity,
        () => Infinity,
      );
    case 'causal':
      return memoTiles(
        bandNode(
          g,
          () => -Infinity,
          (x) => x,
        ),
        g,
      );
    case 'local': {
      const L = p.left ?? Infinity;
      const R = p.right ?? Infinity;
      return memoTiles(
        bandNode(
          g,
          (x) => x - L,
          (x) => x + R,
        ),
        g,
      );
    }
    case 'dilated': {
      const d = p.dilation;
      const L = (p.left ?? Infinity) * d;
      const R = (p.right ?? Infinity) * d;
      return memoTiles(
        bandNode(
          g,
          (x) => x - L,
          (x) => x + R,
          d,
        ),
        g,
      );
    }
    case 'blockLocal': {
      const b = p.block;
      const L = p.left ?? Infinity;
      const R = p.right ?? Infinity;
      return bandNode(
        g,
        (x) => (Math.floor(x / b) - L) * b,
        (x) => (Math.floor(x / b) + R + 1) * b - 1,
      );
    }
    case 'neighborhood':
      return neighborhoodNode(g, p.kernel, p.dilation ?? 1, p.causal ?? false);
    case 'global':
      // tokens: global queries by position p = i + offset; {queries, keys}: by query index i.
      return 'tokens' in p ? globalNode(g, sortedSet(p.tokens), offset, sortedSet(p.tokens)) : globalNode(g, sortedSet(p.queries), 0, sortedSet(p.keys));
    case 'documents':
      return 'offsets' in p ? documentsNode(g, p.offsets, p.offsets, offset) : documentsNode(g, p.q, p.k, 0);
    case 'randomBlocks':
      return randomBlocksNode(g, p.block, p.perRow, p.seed);
    case 'explicit': {
      const { rowPtr, colIdx } = p;
      return listNode(g, (i, sink) => {
        for (let n = rowPtr[i]!; n < rowPtr[i + 1]!; n++) {
          const j = colIdx[n]!;
          if (sink.length && sink[sink.length - 1] === j) sink[sink.length - 1] = j + 1;
          else sink.push(j, j + 1);
        }
      });
    }
    case 'union':
      return unionNode(
        p.of.map((c) => buildNode(c, g)),
        g,
      );
    case 'intersect': {
      const kids = p.of.map((c) => buildNode(c, g));
      const getScratch = scratch(g.blockQ * g.words);
      const getAcc = scratch(g.blockQ * g.words);
      return {
        runs: (i0, i1) => kids.reduce<Runs | null>((acc, k) => (acc ? combineRuns(acc, k.runs(i0, i1), minOp, numKBlocks) : k.runs(i0, i1)), null)!,
        tile(i0, i1, j0, width, out) {
          const size = (i1 - i0) * g.words;
          const acc = getAcc();
          kids[0]!.tile(i0, i1, j0, width, acc);
          for (let n = 1; n < kids.length; n++) {
            const s = getScratch();
            kids[n]!.tile(i0, i1, j0, width, s);
            for (let w = 0; w < size; w++) acc[w]! &= s[w]!;
          }
          for (let w = 0; w < size; w++) out[w]! |= acc[w]!;
        },
      };
    }
    case 'not': {
      const inner = buildNode(p.of, g);
      const getScratch = scratch(g.blockQ * g.words);
      return {
        runs: (i0, i1) => invertRuns(inner.runs(i0, i1)),
        tile(i0, i1, j0, width, out) {
          const valid = Math.min(width, g.seqK - j0);
          if (valid <= 0) return;
          const s = getScratch();
          inner.tile(i0, i1, j0, width, s);
          for (let r = 0; r < i1 - i0; r++) {
            for (let w = 0; w < g.words; w++) {
              const bitsHere = Math.min(32, valid - 32 * w);
              if (bitsHere <= 0) break;
              const mask = bitsHere === 32 ? 0xffffffff : (1 << bitsHere) - 1;
              out[r * g.words + w]! |= ~s[r * g.words + w]! & mask;
            }
          }
        },
      };
    }
    case 'topk':
    case 'cluster':
      return buildNode(p.within ?? { kind: 'dense' }, g);
  }
}
