import { describe, expect, it } from 'vitest';
import { drawKeyBlocks } from '../src/entry/backend.js';
import { makePredicate } from '../src/entry/reference.js';
import {
  atrous,
  bigBird,
  documents,
  local,
  longformer,
  type Pattern,
  prefixLM,
  slidingWindowCausal,
  sparseTransformerFixed,
  sparseTransformerStrided,
} from '../src/index.js';
import { bruteRows } from './helpers.js';

const rows = (p: Pattern, sq: number, sk = sq, offset = sk - sq) => bruteRows(makePredicate(p, { seqQ: sq, seqK: sk, offset }), sq, sk);
const letters = (r: number[][]) => r.map((keys) => keys.map((j) => 'ABCDE'[j]).join(''));

describe('the worked examples on [A, B, C, D, E]', () => {
  it('local(1): each token sees its neighbours and itself', () => {
    expect(letters(rows(local(1), 5))).toEqual(['AB', 'ABC', 'BCD', 'CDE', 'DE']);
  });
  it('atrous(2) follows the definition (distance 0, 2, 4…): A attends A, C and E', () => {
    expect(letters(rows(atrous(2), 5))).toEqual(['ACE', 'BD', 'ACE', 'BD', 'ACE']);
  });
});

describe('pattern kinds against hand-written expectations', () => {
  it('causal with bottom-right alignment for Sq < Sk, and top-left with queryOffset 0', () => {
    expect(rows({ kind: 'causal' }, 2, 4)).toEqual([
      [0, 1, 2],
      [0, 1, 2, 3],
    ]);
    expect(rows({ kind: 'causal' }, 2, 4, 0)).toEqual([[0], [0, 1]]);
  });
  it('Sq > Sk with the default offset leaves the first rows empty (FlashAttention ≥ 2.1)', () => {
    expect(rows({ kind: 'causal' }, 4, 2)).toEqual([[], [], [0], [0, 1]]);
  });
  it('local with asymmetric and unbounded sides', () => {
    expect(rows(local(2, 0), 5)[4]).toEqual([2, 3, 4]);
    expect(rows({ kind: 'local', right: 1 }, 5)[1]).toEqual([0, 1, 2]);
  });
  it('dilated with bounded sides counts steps, not keys', () => {
    expect(rows({ kind: 'dilated', dilation: 3, left: 1, right: 2 }, 12)[5]).toEqual([2, 5, 8, 11]);
  });
  it('dilation larger than the sequence leaves only self', () => {
    expect(rows({ kind: 'dilated', dilation: 50 }, 6)).toEqual([[0], [1], [2], [3], [4], [5]]);
  });
  it('blockLocal works on blocks of positions', () => {
    expect(rows({ kind: 'blockLocal', block: 2, left: 1, right: 0 }, 6)[4]).toEqual([2, 3, 4, 5]);
  });
  it('neighborhood follows NATTEN: windows shifted inside, exactly K keys, even K leans left', () => {
    const r = rows({ kind: 'neighborhood', kernel: 3 }, 6);
    expect(r).toEqual([
      [0, 1, 2],
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 5],
      [3, 4, 5],
    ]);
    const even = rows({ kind: 'neighborhood', kernel: 4 }, 6);
    expect(even[3]).toEqual([1, 2, 3, 4]);
    expect(even.every((k) => k.length === 4)).toBe(true);
  });
  it('neighborhood with dilation groups tokens by residue', () => {
    const r = rows({ kind: 'neighborhood', kernel: 2, dilation: 2 }, 7);
    expect(r[0]).toEqual([0, 2]);
    expect(r[6]).toEqual([4, 6]);
    expect(r[5]).toEqual([3, 5]);
  });
  it('causal neighborhood sees the K previous group members', () => {
    expect(rows({ kind: 'neighborhood', kernel: 2, dilation: 2, causal: true }, 7)[6]).toEqual([4, 6]);
    expect(rows({ kind: 'neighborhood', kernel: 3, causal: true }, 5)[0]).toEqual([0]);
  });
  it('global tokens are symmetric; queries/keys are separate', () => {
    const r = rows({ kind: 'global', tokens: [0, 4] }, 5);
    expect(r[0]).toEqual([0, 1, 2, 3, 4]);
    expect(r[2]).toEqual([0, 4]);
    const qk = rows({ kind: 'global', queries: [1], keys: [3] }, 5);
    expect(qk[1]).toEqual([0, 1, 2, 3, 4]);
    expect(qk[0]).toEqual([3]);
  });
  it('documents: same-document pairs only, empty documents and padding see nothing', () => {
    const r = rows({ kind: 'documents', offsets: [0, 2, 2, 5] }, 7);
    expect(r).toEqual([[0, 1], [0, 1], [2, 3, 4], [2, 3, 4], [2, 3, 4], [], []]);
    const cross = bruteRows(makePredicate({ kind: 'documents', q: [0, 1, 3], k: [0, 2, 4] }, { seqQ: 3, seqK: 4, offset: 1 }), 3, 4);
    expect(cross).toEqual([
      [0, 1],
      [2, 3],
      [2, 3],
    ]);
  });
  it('randomBlocks draws perRow distinct blocks per query block, reproducibly', () => {
    const a = drawKeyBlocks(7, 3, 10, 4);
    expect(Array.from(a)).toEqual(Array.from(drawKeyBlocks(7, 3, 10, 4)));
    expect(new Set(a).size).toBe(4);
    expect(Array.from(drawKeyBlocks(7, 3, 3, 5))).toEqual([0, 1, 2]);
    const r = rows({ kind: 'randomBlocks', block: 2, perRow: 1, seed: 1 }, 8);
    expect(r[0]).toEqual(r[1]);
    expect(r[0]!.length).toBe(2);
  });
  it('the PRNG is pinned: these draws must never change (fixtures depend on them)', () => {
    expect(Array.from(drawKeyBlocks(0, 0, 16, 3))).toMatchSnapshot();
    expect(Array.from(drawKeyBlocks(12345, -1, 1000, 5))).toMatchSnapshot();
  });
  it('union, intersect and not compose', () => {
    const p: Pattern = { kind: 'intersect', of: [local(1), { kind: 'not', of: { kind: 'causal' } }] };
    expect(rows(p, 4)).toEqual([[1], [2], [3], []]);
    expect(rows({ kind: 'union', of: [local(0), { kind: 'global', tokens: [3] }] }, 4)).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [0, 1, 2, 3],
    ]);
  });
  it('explicit lists keys per query', () => {
    expect(rows({ kind: 'explicit', rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1] }, 3, 4)).toEqual([[0, 3], [], [1]]);
  });
});

describe('sugar constructors', () => {
  it('longformer: w/2 each side, dilated band and symmetric globals', () => {
    const r = rows(longformer({ attentionWindow: 4, dilation: 3, globalTokens: [0] }), 20);
    expect(r[10]).toEqual([0, 4, 7, 8, 9, 10, 11, 12, 13, 16]);
    expect(r[0]!.length).toBe(20);
  });
  it('bigBird: window blocks, first/last block global, random blocks', () => {
    const p = bigBird({ block: 2, windowBlocks: 3, randomPerRow: 1, seed: 3, seqLen: 16 });
    const r = rows(p, 16);
    expect(r[0]!.length).toBe(16);
    expect(r[15]!.length).toBe(16);
    for (const j of [4, 5, 6, 7, 8, 9]) expect(r[6]).toContain(j);
    expect(r[6]!.length).toBeGreaterThanOrEqual(6 + 4);
  });
  it('sparse transformer strided: previous `stride` keys and every stride-th key before', () => {
    expect(rows(sparseTransformerStrided(3), 10)[9]).toEqual([0, 3, 6, 7, 8, 9]);
  });
  it('sparse transformer fixed: own block plus summary columns, causal', () => {
    expect(rows(sparseTransformerFixed(4, 1, 12), 12)[9]).toEqual([3, 7, 8, 9]);
  });
  it('slidingWindowCausal(w) keeps w keys including self', () => {
    expect(rows(slidingWindowCausal(3), 6)[5]).toEqual([3, 4, 5]);
  });
  it('prefixLM: bidirectional prefix, causal after', () => {
    const r = rows(prefixLM(2), 4);
    expect(r).toEqual([
      [0, 1],
      [0, 1],
      [0, 1, 2],
      [0, 1, 2, 3],
    ]);
  });
  it('documents(lengths, {causal}) packs sequences', () => {
    expect(rows(documents([2, 3], { causal: true }), 6)).toEqual([[0], [0, 1], [2], [2, 3], [2, 3, 4], []]);
  });
});
