import type { Pattern } from '@sparse/core';
import fc from 'fast-check';

/** The sizes a pattern is drawn for: query and key lengths and the query offset. */
export interface PatternShape {
  seqQ: number;
  seqK: number;
  offset: number;
}

const side = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined });
const sortedList = (max: number, len = 5) => fc.uniqueArray(fc.integer({ min: 0, max: max - 1 }), { maxLength: len }).map((a) => a.sort((x, y) => x - y));

function offsets(total: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: Math.max(total, 1) }), { minLength: 0, maxLength: 5 })
    .map((cuts) => [0, ...cuts.map((c) => Math.min(c, total)).sort((a, b) => a - b)]);
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Every static kind, valid for `shape`. */
function leaves(shape: PatternShape): fc.Arbitrary<Pattern>[] {
  const { seqQ, seqK } = shape;
  const out: fc.Arbitrary<Pattern>[] = [
    fc.constant<Pattern>({ kind: 'dense' }),
    fc.constant<Pattern>({ kind: 'causal' }),
    fc.record({ left: side, right: side }).map((s) => ({ kind: 'local', ...strip(s) }) as Pattern),
    fc
      .record({ dilation: fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(2 ** 31 - 1)), left: side, right: side })
      .map((s) => ({ kind: 'dilated', ...strip(s) }) as Pattern),
    fc.record({ block: fc.integer({ min: 1, max: 9 }), left: side, right: side }).map((s) => ({ kind: 'blockLocal', ...strip(s) }) as Pattern),
    sortedList(seqK).map((tokens) => ({ kind: 'global', tokens }) as Pattern),
    fc.record({ queries: sortedList(seqQ), keys: sortedList(seqK) }).map((s) => ({ kind: 'global', ...s }) as Pattern),
    offsets(seqK).map((o) => ({ kind: 'documents', offsets: o }) as Pattern),
    fc.record({ q: offsets(seqQ), k: offsets(seqK) }).map(({ q, k }) => {
      const n = Math.min(q.length, k.length);
      return { kind: 'documents', q: q.slice(0, n), k: k.slice(0, n) } as Pattern;
    }),
    fc
      .record({ block: fc.integer({ min: 1, max: 9 }), perRow: fc.integer({ min: 0, max: 4 }), seed: fc.integer({ min: 0, max: 1000 }) })
      .map((s) => ({ kind: 'randomBlocks', ...s }) as Pattern),
    fc.array(sortedList(seqK, 6), { minLength: seqQ, maxLength: seqQ }).map((rows) => {
      const rowPtr = [0];
      const colIdx: number[] = [];
      for (const r of rows) {
        colIdx.push(...r);
        rowPtr.push(colIdx.length);
      }
      return { kind: 'explicit', rowPtr, colIdx } as Pattern;
    }),
  ];
  if (seqQ === seqK && shape.offset === 0) {
    out.push(
      fc
        .record({ kernel: fc.integer({ min: 1, max: 9 }), dilation: fc.integer({ min: 1, max: 4 }), causal: fc.boolean() })
        .map((s) => ({ kind: 'neighborhood', ...s }) as Pattern),
    );
  }
  return out;
}

/** Random static patterns valid for `shape`: every kind, composed by union / intersect / not up to `depth`. */
export function staticPatternArb(shape: PatternShape, depth = 2): fc.Arbitrary<Pattern> {
  const leaf = fc.oneof(...leaves(shape));
  if (depth === 0) return leaf;
  const inner = staticPatternArb(shape, depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { minLength: 1, maxLength: 3 }).map((of) => ({ kind: 'union', of }) as Pattern) },
    { weight: 1, arbitrary: fc.array(inner, { minLength: 1, maxLength: 3 }).map((of) => ({ kind: 'intersect', of }) as Pattern) },
    { weight: 1, arbitrary: inner.map((of) => ({ kind: 'not', of }) as Pattern) },
  );
}

/**
 * Content-based roots over a static `within`. Cluster centroids are scaled axis vectors, so with integer inputs every
 * label is exact in float32 and float64 alike (ties go to the smaller centroid on every backend).
 */
export function contentPatternArb(shape: PatternShape, headDim: number): fc.Arbitrary<Pattern> {
  const within = fc.option(staticPatternArb(shape, 1), { nil: undefined });
  const topk = fc.record({ k: fc.integer({ min: 1, max: 8 }), within }).map((s) => ({ kind: 'topk', ...strip(s) }) as Pattern);
  const centroid = fc
    .record({ axis: fc.integer({ min: 0, max: headDim - 1 }), sign: fc.constantFrom(1, -1), size: fc.constantFrom(1, 2, 4) })
    .map(({ axis, sign, size }) => Array.from({ length: headDim }, (_, d) => (d === axis ? sign * size : 0)));
  const cluster = fc
    .record({ centroids: fc.array(centroid, { minLength: 1, maxLength: 4 }), within })
    .map((s) => ({ kind: 'cluster', ...strip(s) }) as Pattern);
  return fc.oneof(topk, cluster);
}
