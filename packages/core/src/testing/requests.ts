import type { Pattern } from '../pattern/types.js';
import type { AttentionRequest } from '../request.js';
import { type HostTensor, type Layout, shapeOf } from '../tensor.js';

import { randomTensor } from './random.js';

/** The sizes of a call, by name; every size but Sq has a default. */
export interface QkvShape {
  /** Batch (default 1). */
  B?: number;
  /** Query heads (default 1). */
  Hq?: number;
  /** Key/value heads (default Hq). */
  Hkv?: number;
  Sq: number;
  /** Keys (default Sq). */
  Sk?: number;
  /** Head dim of q and k (default 8). */
  D?: number;
  /** Head dim of v (default D). */
  Dv?: number;
  /** Default 'bhsd'; the request names it only when given. */
  layout?: Layout;
  /** q gets `seed`, k `seed + 1`, v `seed + 2` (default 1). */
  seed?: number;
  /** Integers -2 … 2 in q and k (and v): exact scores. */
  integers?: boolean;
  /** Multiplies the uniform values of q, k and v (default 1). */
  scale?: number;
}

export interface Qkv {
  q: HostTensor;
  k: HostTensor;
  v: HostTensor;
  layout?: Layout;
}

/** Seeded q, k and v of these sizes (uniform [-1, 1), or small integers), in the shape's layout. */
export function qkv(s: QkvShape): Qkv {
  const B = s.B ?? 1;
  const Hq = s.Hq ?? 1;
  const Hkv = s.Hkv ?? Hq;
  const Sk = s.Sk ?? s.Sq;
  const D = s.D ?? 8;
  const Dv = s.Dv ?? D;
  const seed = s.seed ?? 1;
  const layout = s.layout ?? 'bhsd';
  const o = { ...(s.integers ? { integers: true } : {}), ...(s.scale !== undefined ? { scale: s.scale } : {}) };
  return {
    q: randomTensor(shapeOf(layout, B, Hq, s.Sq, D), seed, o),
    k: randomTensor(shapeOf(layout, B, Hkv, Sk, D), seed + 1, o),
    v: randomTensor(shapeOf(layout, B, Hkv, Sk, Dv), seed + 2, o),
    ...(s.layout ? { layout: s.layout } : {}),
  };
}

/** A whole request: `qkv(shape)`, the pattern, `returnLse: true`, then `extra` (scale, queryOffset, returnLse, …). */
export function makeRequest(shape: QkvShape, pattern: Pattern | readonly Pattern[], extra: Partial<AttentionRequest> = {}): AttentionRequest {
  return { ...qkv(shape), pattern, returnLse: true, ...extra };
}

/**
 * A request whose keys have exact duplicates, so that top-k has ties to break by key index. With `keys`, those key
 * positions become copies of key 0 in every (batch entry, kv head); without, every odd key copies the key before it.
 * The request's k is copied; q, v and the rest are shared.
 */
export function withDuplicateKeys(request: AttentionRequest, keys?: readonly number[]): AttentionRequest {
  const layout = request.layout ?? 'bhsd';
  const [B, a, b, D] = request.k.shape as [number, number, number, number];
  const [H, S] = layout === 'bhsd' ? [a, b] : [b, a];
  const k = Float32Array.from(request.k.data);
  const at = (bi: number, h: number, s: number) => (layout === 'bhsd' ? ((bi * H + h) * S + s) * D : ((bi * S + s) * H + h) * D);
  for (let bi = 0; bi < B; bi++)
    for (let h = 0; h < H; h++) {
      const pairs: [number, number][] = keys ? keys.map((j) => [j, 0]) : Array.from({ length: S >> 1 }, (_, n) => [2 * n + 1, 2 * n]);
      for (const [to, from] of pairs) if (to < S) k.copyWithin(at(bi, h, to), at(bi, h, from), at(bi, h, from) + D);
    }
  return { ...request, k: { data: k, shape: Array.from(request.k.shape) } };
}

/** A deep copy of a request (tensors, shapes and patterns): what a test keeps before it mutates the original. */
export function cloneRequest(request: AttentionRequest): AttentionRequest {
  const t = (x: HostTensor): HostTensor => ({ data: x.data.slice(), shape: Array.from(x.shape) });
  return { ...request, q: t(request.q), k: t(request.k), v: t(request.v), pattern: structuredClone(request.pattern) };
}

/** Allowed key lists of every query row, from an element predicate (brute force, for small tests). */
export function bruteRows(allowed: (i: number, j: number) => boolean, sq: number, sk: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < sq; i++) {
    const r: number[] = [];
    for (let j = 0; j < sk; j++) if (allowed(i, j)) r.push(j);
    rows.push(r);
  }
  return rows;
}

/** The largest |a − b| over two arrays (equal values, infinities included, count 0; a NaN difference gives NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let n = 0; n < a.length; n++) {
    const x = a[n]!;
    const y = b[n]!;
    if (x === y) continue;
    const d = Math.abs(x - y);
    if (Number.isNaN(d)) return Number.NaN;
    m = Math.max(m, d);
  }
  return m;
}
