import type { AttentionRequest, Layout, Pattern } from '@sparse/core';
import { shapeOf } from '@sparse/core/backend';
import { mulberry32 } from '@sparse/core/reference';
import fc from 'fast-check';
import { contentPatternArb, type PatternShape, staticPatternArb } from './patterns.js';

/** What a fuzzed valid request may contain; every field defaults to on. */
export interface RequestSpace {
  /** topk and cluster roots (drawn with integer inputs and exact scales, so selections are exact in float32). */
  content?: boolean;
  /** NaN, ±Inf and float32-overflowing values sprinkled into q, k and v. */
  nonFinite?: boolean;
  /** Per-head pattern arrays. */
  perHead?: boolean;
  /** Inputs on a SharedArrayBuffer. */
  shared?: boolean;
}

/** A value written into one place of an input. `row` is a whole row set to `value` (a huge pair overflows its score). */
export interface Sprinkle {
  tensor: 'q' | 'k' | 'v';
  at: number;
  value: number;
  row: boolean;
}

interface Sizes {
  B: number;
  Hkv: number;
  group: number;
  Sq: number;
  Sk: number;
  D: number;
  Dv: number;
  layout: Layout;
  offset: number | undefined;
}

const sizesArb: fc.Arbitrary<Sizes> = fc
  .record({
    B: fc.integer({ min: 1, max: 2 }),
    Hkv: fc.integer({ min: 1, max: 2 }),
    group: fc.integer({ min: 1, max: 3 }),
    Sq: fc.integer({ min: 1, max: 40 }),
    Sk: fc.integer({ min: 1, max: 40 }),
    D: fc.integer({ min: 1, max: 12 }),
    Dv: fc.integer({ min: 1, max: 12 }),
    layout: fc.constantFrom<Layout>('bhsd', 'bshd'),
    square: fc.boolean(),
  })
  .chain(({ square, ...s }) => {
    const sizes = square ? { ...s, Sk: s.Sq } : s;
    return fc
      .option(fc.integer({ min: -sizes.Sq, max: sizes.Sk + 4 }), { nil: undefined, freq: 3 })
      .map((offset) => ({ ...sizes, offset: square && offset !== undefined ? 0 : offset }));
  });

function fill(count: number, seed: number, integers: boolean, shared: boolean): Float32Array {
  const next = mulberry32(seed);
  const data = shared ? new Float32Array(new SharedArrayBuffer(count * 4)) : new Float32Array(count);
  for (let n = 0; n < count; n++) data[n] = integers ? (next() % 5) - 2 : next() / 2 ** 31 - 1;
  return data;
}

function sprinkleArb(counts: Record<'q' | 'k' | 'v', number>, allowHuge: boolean): fc.Arbitrary<Sprinkle[]> {
  const values = allowHuge
    ? fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e20, -1e20)
    : fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  const one = fc
    .record({ tensor: fc.constantFrom<'q' | 'k' | 'v'>('q', 'k', 'v'), where: fc.nat(), value: values, row: fc.boolean() })
    .map(({ tensor, where, value, row }) => ({ tensor, at: where % counts[tensor], value, row: row && Math.abs(value) === 1e20 }));
  return fc.array(one, { minLength: 1, maxLength: 3 });
}

/** A drawn request with what was sprinkled into it (for the report of a counterexample). */
export interface FuzzedRequest {
  request: AttentionRequest;
  sprinkles: Sprinkle[];
  /** Integer inputs (content-based patterns): scores are exact in float32. */
  integers: boolean;
}

/** Random valid requests: shapes, layouts, GQA, offsets, every pattern kind and composition, per-head patterns. */
export function requestArb(space: RequestSpace = {}): fc.Arbitrary<FuzzedRequest> {
  return sizesArb.chain((s) => {
    const Hq = s.Hkv * s.group;
    const offset = s.offset ?? s.Sk - s.Sq;
    const shape: PatternShape = { seqQ: s.Sq, seqK: s.Sk, offset };
    const content = space.content !== false;
    const one = content
      ? fc.oneof({ weight: 4, arbitrary: staticPatternArb(shape) }, { weight: 1, arbitrary: contentPatternArb(shape, s.D) })
      : staticPatternArb(shape);
    const patternArb: fc.Arbitrary<Pattern | Pattern[]> =
      space.perHead === false ? one : fc.oneof({ weight: 3, arbitrary: one }, { weight: 1, arbitrary: fc.array(one, { minLength: Hq, maxLength: Hq }) });
    const counts = { q: s.B * Hq * s.Sq * s.D, k: s.B * s.Hkv * s.Sk * s.D, v: s.B * s.Hkv * s.Sk * s.Dv };
    return fc
      .record({
        pattern: patternArb,
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
        shared: space.shared === false ? fc.constant(false) : fc.boolean(),
        sprinkles:
          space.nonFinite === false
            ? fc.constant<Sprinkle[]>([])
            : fc.oneof({ weight: 2, arbitrary: fc.constant<Sprinkle[]>([]) }, { weight: 1, arbitrary: sprinkleArb(counts, true) }),
      })
      .map(({ pattern, seed, shared, sprinkles }) => {
        const patterns = Array.isArray(pattern) ? pattern : [pattern];
        const isContent = patterns.some((p) => p.kind === 'topk' || p.kind === 'cluster');
        const hasCluster = patterns.some((p) => p.kind === 'cluster');
        const data = {
          q: fill(counts.q, seed, isContent, shared),
          k: fill(counts.k, seed + 1, isContent, shared),
          v: fill(counts.v, seed + 2, isContent, shared),
        };
        // Cluster labels of non-finite vectors are left to the argmax; huge values would make top-k ties inexact.
        const kept = hasCluster ? [] : isContent ? sprinkles.filter((x) => Math.abs(x.value) !== 1e20) : sprinkles;
        for (const x of kept) {
          const width = x.tensor === 'v' ? s.Dv : s.D;
          if (x.row) data[x.tensor].fill(x.value, x.at - (x.at % width), x.at - (x.at % width) + width);
          else data[x.tensor][x.at] = x.value;
        }
        const request: AttentionRequest = {
          q: { data: data.q, shape: shapeOf(s.layout, s.B, Hq, s.Sq, s.D) },
          k: { data: data.k, shape: shapeOf(s.layout, s.B, s.Hkv, s.Sk, s.D) },
          v: { data: data.v, shape: shapeOf(s.layout, s.B, s.Hkv, s.Sk, s.Dv) },
          pattern,
          layout: s.layout,
          returnLse: true,
        };
        if (s.offset !== undefined) request.queryOffset = s.offset;
        // Power-of-two scales keep integer scores exact, so top-k ties stay ties on every backend.
        if (isContent) request.scale = [1, 0.5, 0.25][seed % 3]!;
        return { request, sprinkles: kept, integers: isContent };
      });
  });
}
