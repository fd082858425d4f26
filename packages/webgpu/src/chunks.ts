import { type AttentionPlan, type BlockMask, type Layout, SparseAttentionError } from '@sparse/core';
import type { DeviceLimits } from './limits.js';

/** Element strides of a 4-d tensor in a layout, and its element count. */
export interface Geometry {
  sB: number;
  sH: number;
  sS: number;
  dim: number;
  total: number;
}

export function geometry(layout: Layout, B: number, H: number, S: number, dim: number): Geometry {
  return layout === 'bhsd'
    ? { sB: H * S * dim, sH: S * dim, sS: dim, dim, total: B * H * S * dim }
    : { sB: S * H * dim, sS: H * dim, sH: dim, dim, total: B * H * S * dim };
}

export type TensorName = 'q' | 'k' | 'v' | 'o';

/**
 * One dispatch group: batches [b0, b0+nb), query heads [h0, h0+nh), query blocks [qb0, qb0+nqb), reading key
 * rows [j0, j1). Its q and o element ranges are exactly its own elements (chunks never interleave), so a host
 * upload or readback of a range touches no other chunk's data.
 */
export interface Chunk {
  b0: number;
  nb: number;
  h0: number;
  nh: number;
  qb0: number;
  nqb: number;
  /** Query rows [r0, r1). */
  r0: number;
  r1: number;
  /** Key rows [j0, j1). */
  j0: number;
  j1: number;
  /** Element ranges [lo, hi) of each tensor the chunk reads or writes. */
  ranges: Record<TensorName, [number, number]>;
}

export interface ChunkProblem {
  plan: AttentionPlan;
  geo: Record<TensorName, Geometry>;
  /** Mask of each query head. */
  headMasks: readonly BlockMask[];
  blockQ: number;
  limits: DeviceLimits;
}

function range(g: Geometry, b0: number, nb: number, h0: number, h1: number, s0: number, s1: number): [number, number] {
  return [b0 * g.sB + h0 * g.sH + s0 * g.sS, (b0 + nb - 1) * g.sB + (h1 - 1) * g.sH + (s1 - 1) * g.sS + g.dim];
}

export function makeChunk(p: ChunkProblem, b0: number, nb: number, h0: number, nh: number, qb0: number, nqb: number, j0: number, j1: number): Chunk {
  const { seqQ, group } = p.plan;
  const r0 = qb0 * p.blockQ;
  const r1 = Math.min((qb0 + nqb) * p.blockQ, seqQ);
  const hk0 = Math.floor(h0 / group);
  const hk1 = Math.floor((h0 + nh - 1) / group) + 1;
  return {
    b0,
    nb,
    h0,
    nh,
    qb0,
    nqb,
    r0,
    r1,
    j0,
    j1,
    ranges: {
      q: range(p.geo.q, b0, nb, h0, h0 + nh, r0, r1),
      o: range(p.geo.o, b0, nb, h0, h0 + nh, r0, r1),
      k: range(p.geo.k, b0, nb, hk0, hk1, j0, j1),
      v: range(p.geo.v, b0, nb, hk0, hk1, j0, j1),
    },
  };
}

/** Bytes a binding of this range needs once its offset is aligned down. */
function boundBytes(r: [number, number], align: number): number {
  return r[1] * 4 - Math.floor((r[0] * 4) / align) * align;
}

function fits(p: ChunkProblem, c: Chunk): boolean {
  const { maxStorageBufferBindingSize: max, minStorageBufferOffsetAlignment: align, maxComputeWorkgroupsPerDimension: dim } = p.limits;
  if (c.nqb > dim || c.nh > dim || c.nb > dim) return false;
  return (['q', 'k', 'v', 'o'] as const).every((t) => boundBytes(c.ranges[t], align) <= max);
}

/** Key rows [j0, j1) that query blocks [qb0, qb1) of the heads [h0, h1) visit (at least one row). */
class KeyRange {
  lo = Infinity;
  hi = -Infinity;
  constructor(
    private readonly p: ChunkProblem,
    private readonly heads: readonly number[],
  ) {}
  add(qb: number): void {
    const seen = new Set<BlockMask>();
    for (const h of this.heads) {
      const m = this.p.headMasks[h]!;
      if (seen.has(m)) continue;
      seen.add(m);
      const a = m.rowPtr[qb]!;
      const e = m.rowPtr[qb + 1]!;
      if (a === e) continue;
      this.lo = Math.min(this.lo, m.colIdx[a]! * m.blockK);
      this.hi = Math.max(this.hi, Math.min((m.colIdx[e - 1]! + 1) * m.blockK, m.seqK));
    }
  }
  rows(): [number, number] {
    return this.lo < this.hi ? [this.lo, this.hi] : [0, 1];
  }
}

function tooLarge(p: ChunkProblem, c: Chunk): never {
  const { maxStorageBufferBindingSize: max, maxComputeWorkgroupsPerDimension: dim } = p.limits;
  if (c.nh > dim)
    throw new SparseAttentionError(
      'RESOURCE_LIMIT',
      `q.shape[2]: ${c.nh} query heads in the bshd layout exceed the device's maxComputeWorkgroupsPerDimension (${dim}) once rows must be split; use the bhsd layout`,
      { field: 'q.shape[2]' },
    );
  const worst = (['q', 'k', 'v', 'o'] as const).map((t) => [t, (c.ranges[t][1] - c.ranges[t][0]) * 4] as const).sort((a, b) => b[1] - a[1])[0]!;
  const field = worst[0] === 'o' ? 'v.shape' : `${worst[0]}.shape`;
  throw new SparseAttentionError(
    'RESOURCE_LIMIT',
    `${field}: one query block of batch ${c.b0}, head ${c.h0} needs a ${worst[0] === 'o' ? 'out' : worst[0]} binding of ${worst[1]} bytes, more than the device's maxStorageBufferBindingSize (${max} bytes); the request cannot be split further`,
    { field },
  );
}

/**
 * Splits a problem into chunks whose bindings fit maxStorageBufferBindingSize and whose grids fit
 * maxComputeWorkgroupsPerDimension: whole batches first, then (bhsd) head ranges, then query-block ranges of one
 * (batch, head) (bshd: one batch, all heads) reading only the key rows those blocks list. Throws RESOURCE_LIMIT
 * before anything is allocated when a single query block still does not fit.
 */
export function planChunks(p: ChunkProblem): Chunk[] {
  const { batch: B, headsQ: Hq, seqK, layout } = p.plan;
  const nQB = p.headMasks[0]!.numQBlocks;
  const maxDim = p.limits.maxComputeWorkgroupsPerDimension;
  const out: Chunk[] = [];
  const gridOk = nQB <= maxDim && Hq <= maxDim;
  // Batch ranges: the largest count that fits from batch 0, re-checked per range (binding offsets are aligned
  // down, so a range's bytes depend slightly on where it starts); a batch that fits alone in no way is split below.
  let firstSplit = B;
  if (gridOk) {
    let lo = 0;
    let hi = Math.min(B, maxDim);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(p, makeChunk(p, 0, mid, 0, Hq, 0, nQB, 0, seqK))) lo = mid;
      else hi = mid - 1;
    }
    let b0 = 0;
    while (lo >= 1 && b0 < B) {
      let nb = Math.min(lo, B - b0);
      while (nb >= 1 && !fits(p, makeChunk(p, b0, nb, 0, Hq, 0, nQB, 0, seqK))) nb--;
      if (nb === 0) break;
      out.push(makeChunk(p, b0, nb, 0, Hq, 0, nQB, 0, seqK));
      b0 += nb;
    }
    firstSplit = lo >= 1 ? b0 : 0;
    if (firstSplit === B) return out;
  } else firstSplit = 0;
  for (let b = firstSplit; b < B; b++) {
    if (layout === 'bshd') {
      splitRows(p, b, 0, Hq, out);
      continue;
    }
    let h0 = 0;
    while (h0 < Hq) {
      if (!gridOk || !fits(p, makeChunk(p, b, 1, h0, 1, 0, nQB, 0, seqK))) {
        splitRows(p, b, h0, 1, out);
        h0++;
        continue;
      }
      let nh = 1;
      while (h0 + nh < Hq && fits(p, makeChunk(p, b, 1, h0, nh + 1, 0, nQB, 0, seqK))) nh++;
      out.push(makeChunk(p, b, 1, h0, nh, 0, nQB, 0, seqK));
      h0 += nh;
    }
  }
  return out;
}

function splitRows(p: ChunkProblem, b: number, h0: number, nh: number, out: Chunk[]): void {
  const nQB = p.headMasks[0]!.numQBlocks;
  const heads = Array.from({ length: nh }, (_, n) => h0 + n);
  let qb0 = 0;
  while (qb0 < nQB) {
    const keys = new KeyRange(p, heads);
    keys.add(qb0);
    const [j0, j1] = keys.rows();
    let chunk = makeChunk(p, b, 1, h0, nh, qb0, 1, j0, j1);
    if (!fits(p, chunk)) tooLarge(p, chunk);
    let nqb = 1;
    while (qb0 + nqb < nQB) {
      const probe = new KeyRange(p, heads);
      probe.lo = keys.lo;
      probe.hi = keys.hi;
      probe.add(qb0 + nqb);
      const [a, e] = probe.rows();
      const next = makeChunk(p, b, 1, h0, nh, qb0, nqb + 1, a, e);
      if (!fits(p, next)) break;
      keys.lo = probe.lo;
      keys.hi = probe.hi;
      chunk = next;
      nqb++;
    }
    out.push(chunk);
    qb0 += nqb;
  }
}
