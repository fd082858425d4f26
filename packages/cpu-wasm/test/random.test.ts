import { assertMatchesReference, makeRequest } from '@sparse/conformance/testing';
import type { Pattern } from '@sparse/core';
import { mulberry32 } from '@sparse/core/reference';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWasm } from '../dist/index.js';

// Seeded random shapes, layouts, tiles and patterns (static and content-based) against the float64 reference.
const next = mulberry32(20261129);
const int = (lo: number, hi: number) => lo + (next() % (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;

function randomStatic(sq: number, sk: number): Pattern {
  const choices: (() => Pattern)[] = [
    () => ({ kind: 'dense' }),
    () => ({ kind: 'causal' }),
    () => ({ kind: 'local', left: int(0, 20), right: int(0, 20) }),
    () => ({ kind: 'dilated', dilation: int(1, 4), left: int(0, 8), right: int(0, 8) }),
    () => ({ kind: 'documents', offsets: [0, int(0, sk), sk].sort((a, b) => a - b) }),
    () => ({
      kind: 'union',
      of: [
        { kind: 'local', left: int(0, 4), right: 0 },
        { kind: 'global', queries: [int(0, sq - 1)], keys: [int(0, sk - 1)] },
      ],
    }),
    () => ({ kind: 'randomBlocks', block: int(1, 16), perRow: 1, seed: int(0, 99) }),
  ];
  return pick(choices)();
}

function randomPattern(sq: number, sk: number, d: number): Pattern {
  const r = next() % 10;
  if (r < 6) return randomStatic(sq, sk);
  if (r < 8) return { kind: 'topk', k: int(1, 12), within: randomStatic(sq, sk) };
  const centroids = Array.from({ length: int(1, 4) }, () => Array.from({ length: d }, () => int(-2, 2) || 1));
  return { kind: 'cluster', centroids, within: randomStatic(sq, sk) };
}

const CASES = Array.from({ length: 40 }, (_, n) => {
  const Hkv = int(1, 3);
  const Hq = Hkv * int(1, 3);
  const Sq = int(1, 90);
  const Sk = int(1, 90);
  const D = int(1, 40);
  const shape = { B: int(1, 2), Hq, Hkv, Sq, Sk, D, Dv: int(1, 40), layout: pick(['bhsd', 'bshd'] as const), seed: n * 7 + 1, integers: next() % 2 === 0 };
  const perHead = next() % 3 === 0;
  const pattern = perHead ? Array.from({ length: Hq }, () => randomPattern(Sq, Sk, D)) : randomPattern(Sq, Sk, D);
  const queryOffset = next() % 4 === 0 ? int(-10, 100) : undefined;
  return { name: `#${n} ${JSON.stringify({ ...shape, queryOffset })}`, req: makeRequest(shape, pattern, queryOffset === undefined ? {} : { queryOffset }) };
});

describe.each([
  ['2 threads, 8 × 8 tiles', { threads: 2, tiles: { blockQ: 8, blockK: 8 } }],
  ['1 thread, 12 × 24 tiles', { threads: 1, tiles: { blockQ: 12, blockK: 24 } }],
  ['2 threads, default tiles', { threads: 2 }],
  // Four-row groups in 64-key blocks: most partial blocks are trimmed to the keys a group attends.
  ['1 thread, 4 × 64 tiles', { threads: 1, tiles: { blockQ: 4, blockK: 64 } }],
])('random requests (%s)', (_label, options) => {
  const backend = cpuWasm(options);
  afterAll(() => backend.dispose());
  it.each(CASES)('$name', async ({ req }) => {
    expect(backend.supports(req)).toBe(true);
    assertMatchesReference(req, await backend.attention(req));
  });
});
