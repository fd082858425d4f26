import { mulberry32 } from '../src/entry/reference.js';
import type { HostTensor, Layout } from '../src/index.js';

/** Seeded float32 tensor with values in [-1, 1) (or small integers when `integers` is set). */
export function randomTensor(shape: number[], seed: number, integers = false): HostTensor {
  const next = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let n = 0; n < size; n++) data[n] = integers ? (next() % 5) - 2 : next() / 2 ** 31 - 1;
  return { data, shape };
}

export function qkv(o: {
  B?: number;
  Hq?: number;
  Hkv?: number;
  Sq: number;
  Sk?: number;
  D?: number;
  Dv?: number;
  layout?: Layout;
  seed?: number;
  integers?: boolean;
}) {
  const B = o.B ?? 1;
  const Hq = o.Hq ?? 1;
  const Hkv = o.Hkv ?? Hq;
  const Sk = o.Sk ?? o.Sq;
  const D = o.D ?? 8;
  const Dv = o.Dv ?? D;
  const seed = o.seed ?? 1;
  const shape = (h: number, s: number, d: number) => (o.layout === 'bshd' ? [B, s, h, d] : [B, h, s, d]);
  return {
    q: randomTensor(shape(Hq, o.Sq, D), seed, o.integers),
    k: randomTensor(shape(Hkv, Sk, D), seed + 1, o.integers),
    v: randomTensor(shape(Hkv, Sk, Dv), seed + 2, o.integers),
    ...(o.layout ? { layout: o.layout } : {}),
  };
}

/** Allowed key lists of every query row, from the element predicate (brute force, tests only). */
export function bruteRows(allowed: (i: number, j: number) => boolean, sq: number, sk: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < sq; i++) {
    const r: number[] = [];
    for (let j = 0; j < sk; j++) if (allowed(i, j)) r.push(j);
    rows.push(r);
  }
  return rows;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let n = 0; n < a.length; n++) {
    const x = a[n]!;
    const y = b[n]!;
    if (x === y) continue; // also equal infinities
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}
