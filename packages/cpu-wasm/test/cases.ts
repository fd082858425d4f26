import { makeRequest } from '@sparse/conformance/testing';
import { type AttentionRequest, bigBird, longformer, type Pattern } from '@sparse/core';

const causal: Pattern = { kind: 'causal' };
const dense: Pattern = { kind: 'dense' };

/** Small requests covering the contract: shapes, layouts, GQA, offsets, head dims, masks, per-head and content-based patterns. */
export const CASES: [string, AttentionRequest][] = [
  ['dense, one row block', makeRequest({ Sq: 13 }, dense)],
  ['causal, GQA 2:1, D=17', makeRequest({ Hq: 4, Hkv: 2, Sq: 37, D: 17 }, causal)],
  ['causal, GQA 4:1', makeRequest({ Hq: 4, Hkv: 1, Sq: 41, D: 8 }, causal)],
  ['local, MQA 3:1', makeRequest({ Hq: 3, Hkv: 1, Sq: 50, D: 12 }, { kind: 'local', left: 5, right: 2 })],
  ['bshd, GQA, Dv != D, batch 2', makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 45, D: 12, Dv: 7, layout: 'bshd' }, { kind: 'local', left: 9, right: 4 })],
  ['bshd, Sq < Sk, causal', makeRequest({ Hq: 2, Sq: 19, Sk: 53, D: 9, layout: 'bshd' }, causal)],
  ['Sq > Sk, causal bottom-right (early rows masked)', makeRequest({ Hq: 2, Sq: 50, Sk: 21, D: 8 }, causal)],
  ['Sq < Sk, causal', makeRequest({ Hq: 2, Sq: 21, Sk: 67, D: 8 }, causal)],
  ['queryOffset 0 (top-left)', makeRequest({ Sq: 20, Sk: 47, D: 8 }, causal, { queryOffset: 0 })],
  ['queryOffset past the keys', makeRequest({ Sq: 20, Sk: 30, D: 8 }, { kind: 'local', left: 3, right: 3 }, { queryOffset: 25 })],
  ['Dv > D', makeRequest({ Hq: 2, Sq: 33, D: 16, Dv: 40 }, causal)],
  ['Dv < D, Dv = 1', makeRequest({ Sq: 30, D: 20, Dv: 1 }, dense)],
  ...[1, 3, 17, 64, 80, 128, 256].map((D): [string, AttentionRequest] => [
    `D=${D}, local window`,
    makeRequest({ Hq: 2, Sq: 70, D, seed: D }, { kind: 'local', left: 20, right: 7 }),
  ]),
  ['D=5, Dv=13, dense, ragged tiles', makeRequest({ Sq: 37, Sk: 59, D: 5, Dv: 13 }, dense)],
  ['fully masked rows (document padding)', makeRequest({ Hq: 2, Sq: 40, D: 8 }, { kind: 'documents', offsets: [0, 10, 25] })],
  ['nothing allowed at all', makeRequest({ Sq: 9, D: 4 }, { kind: 'not', of: dense })],
  ['dilated', makeRequest({ Sq: 64, D: 8 }, { kind: 'dilated', dilation: 3, left: 6, right: 2 })],
  [
    'global tokens',
    makeRequest(
      { Sq: 60, D: 8 },
      {
        kind: 'union',
        of: [
          { kind: 'local', left: 2, right: 2 },
          { kind: 'global', tokens: [0, 31] },
        ],
      },
    ),
  ],
  ['longformer', makeRequest({ Hq: 2, Sq: 80, D: 8 }, longformer({ attentionWindow: 8, globalTokens: [0, 1] }))],
  ['bigBird', makeRequest({ Sq: 96, D: 8 }, bigBird({ block: 8, windowBlocks: 3, randomPerRow: 2, seed: 7 }))],
  ['neighborhood', makeRequest({ Sq: 50, D: 8 }, { kind: 'neighborhood', kernel: 7, dilation: 2 })],
  ['explicit CSR', makeRequest({ Sq: 4, Sk: 6, D: 8 }, { kind: 'explicit', rowPtr: [0, 2, 2, 5, 6], colIdx: [0, 5, 1, 2, 3, 4] })],
  ['anti-causal (not)', makeRequest({ Sq: 33, D: 8 }, { kind: 'not', of: causal })],
  ['per-head patterns', makeRequest({ Hq: 4, Hkv: 2, Sq: 45, D: 8 }, [causal, { kind: 'local', left: 3, right: 3 }, { kind: 'dilated', dilation: 2 }, dense])],
  ['scale given', makeRequest({ Sq: 30, D: 8 }, causal, { scale: 0.7 })],
  ['no lse asked', makeRequest({ Sq: 30, D: 8 }, causal, { returnLse: false })],
  ['topk with ties (integer inputs)', makeRequest({ Hq: 2, Sq: 40, D: 6, integers: true }, { kind: 'topk', k: 3, within: causal })],
  ['topk over dense, GQA, ties', makeRequest({ Hq: 4, Hkv: 2, Sq: 30, Sk: 45, D: 4, integers: true, seed: 9 }, { kind: 'topk', k: 5 })],
  ['topk k above the candidates', makeRequest({ Sq: 20, D: 6, integers: true }, { kind: 'topk', k: 50, within: causal })],
  [
    'topk k=1, bshd',
    makeRequest({ Hq: 2, Sq: 35, D: 5, integers: true, layout: 'bshd' }, { kind: 'topk', k: 1, within: { kind: 'local', left: 6, right: 6 } }),
  ],
  [
    'cluster',
    makeRequest(
      { Hq: 2, Sq: 40, D: 4, integers: true },
      {
        kind: 'cluster',
        centroids: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 1],
        ],
      },
    ),
  ],
  [
    'cluster, GQA, within local, per head',
    makeRequest({ Hq: 4, Hkv: 2, Sq: 37, D: 3, integers: true, seed: 4 }, [
      {
        kind: 'cluster',
        centroids: [
          [1, 1, 0],
          [0, 0, 1],
        ],
        within: { kind: 'local', left: 10, right: 0 },
      },
      {
        kind: 'cluster',
        centroids: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      },
      causal,
      { kind: 'topk', k: 4, within: causal },
    ]),
  ],
  // Decode (one query row after a cache): the heads of a kv group are packed into the kernel's rows.
  [
    'decode, GQA 4:1, causal window',
    makeRequest({ Hq: 8, Hkv: 2, Sq: 1, Sk: 300, D: 16, Dv: 12 }, { kind: 'local', left: 40, right: 0 }, { queryOffset: 299 }),
  ],
  ['decode, GQA 3:1, causal', makeRequest({ Hq: 6, Hkv: 2, Sq: 1, Sk: 90, D: 8 }, causal, { queryOffset: 89 })],
  [
    'decode, GQA 8:1, batch 2, bshd, Dv 5',
    makeRequest({ B: 2, Hq: 8, Hkv: 1, Sq: 1, Sk: 131, D: 12, Dv: 5, layout: 'bshd' }, { kind: 'local', left: 17, right: 0 }, { queryOffset: 130 }),
  ],
  ['decode, GQA 6:1, mid-sequence query', makeRequest({ Hq: 6, Hkv: 1, Sq: 1, Sk: 77, D: 8 }, { kind: 'local', left: 9, right: 9 }, { queryOffset: 40 })],
  [
    'decode, topk, GQA 4:1, ties',
    makeRequest({ Hq: 8, Hkv: 2, Sq: 1, Sk: 70, D: 4, integers: true, seed: 3 }, { kind: 'topk', k: 6, within: causal }, { queryOffset: 69 }),
  ],
  [
    'decode, cluster, GQA 2:1',
    makeRequest(
      { Hq: 4, Hkv: 2, Sq: 1, Sk: 60, D: 3, integers: true, seed: 6 },
      {
        kind: 'cluster',
        centroids: [
          [1, 1, 0],
          [0, 0, 1],
        ],
        within: causal,
      },
      { queryOffset: 59 },
    ),
  ],
  [
    'decode, per-head patterns (not packed)',
    makeRequest({ Hq: 4, Hkv: 1, Sq: 1, Sk: 50, D: 8 }, [causal, { kind: 'local', left: 3, right: 0 }, causal, dense], { queryOffset: 49 }),
  ],
];
