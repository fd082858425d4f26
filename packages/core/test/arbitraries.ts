import fc from 'fast-check';
import type { Pattern } from '../src/index.js';

export interface Shape {
  seqQ: number;
  seqK: number;
  offset: number;
}

export const shapeArb: fc.Arbitrary<Shape> = fc.oneof(
  fc.integer({ min: 1, max: 48 }).map((n) => ({ seqQ: n, seqK: n, offset: 0 })),
  fc
    .record({ seqQ: fc.integer({ min: 1, max: 40 }), seqK: fc.integer({ min: 1, max: 40 }) })
    .chain(({ seqQ, seqK }) => fc.oneof(fc.constant(seqK - seqQ), fc.integer({ min: -20, max: 60 })).map((offset) => ({ seqQ, seqK, offset }))),
);

const side = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined });
const sortedList = (max: number, len = 5) => fc.uniqueArray(fc.integer({ min: 0, max: max - 1 }), { maxLength: len }).map((a) => a.sort((x, y) => x - y));

function offsets(total: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: Math.max(total, 1) }), { minLength: 0, maxLength: 5 })
    .map((cuts) => [0, ...cuts.map((c) => Math.min(c, total)).sort((a, b) => a - b)]);
}

/** Random static patterns that are valid for `shape`, nested up to `depth`. */
export function patternArb(shape: Shape, depth = 2): fc.Arbitrary<Pattern> {
  const { seqQ, seqK } = shape;
  const leaves: fc.Arbitrary<Pattern>[] = [
    fc.constant<Pattern>({ kind: 'dense' }),
    fc.constant<Pattern>({ kind: 'causal' }),
    fc.record({ left: side, right: side }).map((s) => ({ kind: 'local', ...strip(s) }) as Pattern),
    fc.record({ dilation: fc.integer({ min: 1, max: 7 }), left: side, right: side }).map((s) => ({ kind: 'dilated', ...strip(s) }) as Pattern),
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
    leaves.push(
      fc
        .record({ kernel: fc.integer({ min: 1, max: 9 }), dilation: fc.integer({ min: 1, max: 4 }), causal: fc.boolean() })
        .map((s) => ({ kind: 'neighborhood', ...s }) as Pattern),
    );
  }
  const leaf = fc.oneof(...leaves);
  if (depth === 0) return leaf;
  const inner = patternArb(shape, depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { minLength: 1, maxLength: 3 }).map((of) => ({ kind: 'union', of }) as Pattern) },
    { weight: 1, arbitrary: fc.array(inner, { minLength: 1, maxLength: 3 }).map((of) => ({ kind: 'intersect', of }) as Pattern) },
    { weight: 1, arbitrary: inner.map((of) => ({ kind: 'not', of }) as Pattern) },
  );
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const tilesArb = fc.record({ blockQ: fc.integer({ min: 1, max: 40 }), blockK: fc.integer({ min: 1, max: 70 }) });
