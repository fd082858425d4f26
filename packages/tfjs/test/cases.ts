import { causal, dense, local, type Pattern } from '@sparse/core';
import type { CaseSpec } from './helpers.js';

/** Small cases covering the contract: every one runs on cpu and wasm against core's reference. */
export const CASES: CaseSpec[] = [
  { name: 'dense', Sq: 37, pattern: dense() },
  { name: 'causal ragged', Sq: 70, D: 5, pattern: causal() },
  { name: 'local L=R=5, small tiles', Sq: 45, pattern: local(5) },
  { name: 'local bshd', Sq: 33, layout: 'bshd', Hq: 3, pattern: local(3, 7) },
  { name: 'GQA 4:2 causal', Hq: 4, Hkv: 2, Sq: 40, pattern: causal() },
  { name: 'MQA 4:1 bshd local', Hq: 4, Hkv: 1, Sq: 29, layout: 'bshd', pattern: local(4) },
  { name: 'batch 2, Dv != D, odd D', B: 2, Sq: 21, D: 7, Dv: 3, pattern: local(2, 0) },
  { name: 'Sq != Sk decode, bottom-right', Sq: 5, Sk: 50, pattern: causal() },
  { name: 'Sq != Sk top-left offset', Sq: 30, Sk: 20, queryOffset: 0, pattern: causal() },
  { name: 'fully masked rows', Sq: 24, Sk: 24, queryOffset: -5, pattern: causal() },
  { name: 'dilated', Sq: 40, pattern: { kind: 'dilated', dilation: 3, left: 4, right: 4 } },
  { name: 'documents with padding', Sq: 30, pattern: { kind: 'documents', offsets: [0, 7, 19, 26] } },
  { name: 'global + local', Sq: 50, pattern: { kind: 'union', of: [local(2), { kind: 'global', tokens: [0, 31] }] } },
  { name: 'random blocks', Sq: 64, pattern: { kind: 'randomBlocks', block: 8, perRow: 2, seed: 7 } },
  {
    name: 'explicit with empty rows',
    Sq: 4,
    Sk: 6,
    pattern: { kind: 'explicit', rowPtr: [0, 2, 2, 5, 5], colIdx: [0, 5, 1, 2, 3] },
  },
  { name: 'per-head patterns', Hq: 3, Sq: 26, pattern: [causal(), local(2), dense()] as Pattern[] },
  { name: 'per-head split GQA group', Hq: 4, Hkv: 2, Sq: 26, pattern: [causal(), local(2), local(2), causal()] as Pattern[] },
  { name: 'per-head even GQA groups', Hq: 4, Hkv: 2, Sq: 19, pattern: [causal(), causal(), local(1), local(1)] as Pattern[] },
  { name: 'scale', Sq: 17, scale: 0.9, pattern: causal() },
  { name: 'topk dense', Sq: 20, pattern: { kind: 'topk', k: 4 } },
  { name: 'topk ties to smaller j', Sq: 12, integers: true, duplicateKeys: [3, 5, 8, 9], pattern: { kind: 'topk', k: 2 } },
  { name: 'topk within causal (fewer candidates)', Hq: 4, Hkv: 2, Sq: 30, pattern: { kind: 'topk', k: 5, within: causal() } },
  { name: 'topk bshd local', Sq: 23, layout: 'bshd', pattern: { kind: 'topk', k: 3, within: local(4) } },
  {
    name: 'cluster',
    Hq: 4,
    Hkv: 2,
    Sq: 33,
    D: 4,
    pattern: {
      kind: 'cluster',
      centroids: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, 1],
      ],
    },
  },
  {
    name: 'cluster within causal, Sq != Sk',
    Sq: 13,
    Sk: 29,
    D: 3,
    pattern: {
      kind: 'cluster',
      centroids: [
        [1, 1, 0],
        [-1, 0, 1],
      ],
      within: causal(),
    },
  },
];
