import fc from 'fast-check';

// The pattern arbitraries are the fuzzer's: one definition of "every static kind, composed". Core's tests take its
// source directly, since core cannot depend on the package that depends on it.
export { staticPatternArb as patternArb } from '../../conformance/src/fuzz/patterns.js';

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

export const tilesArb = fc.record({ blockQ: fc.integer({ min: 1, max: 40 }), blockK: fc.integer({ min: 1, max: 70 }) });
