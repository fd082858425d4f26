// Small requests covering the contract's corners (docs/design.md: tensors, patterns, block masks), built from the shared seeded data.
import { makeRequest, withDuplicateKeys } from '@sparse/conformance/testing';
import type { AttentionRequest } from '@sparse/core';

export const CASES: { id: string; make: () => AttentionRequest }[] = [
  { id: 'dense', make: () => makeRequest({ B: 1, Hq: 2, Hkv: 2, Sq: 37, Sk: 37, D: 16, Dv: 16 }, { kind: 'dense' }) },
  {
    id: 'causal gqa bshd sq<sk dv!=d',
    make: () => makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 50, Sk: 70, D: 8, Dv: 12, layout: 'bshd' }, { kind: 'causal' }),
  },
  { id: 'local odd D ragged', make: () => makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 100, Sk: 100, D: 5, Dv: 5 }, { kind: 'local', left: 5, right: 3 }) },
  {
    id: 'per-head patterns',
    make: () =>
      makeRequest({ B: 1, Hq: 4, Hkv: 1, Sq: 66, Sk: 66, D: 8, Dv: 8 }, [
        { kind: 'causal' },
        { kind: 'local', left: 2, right: 2 },
        { kind: 'dilated', dilation: 3, left: 4, right: 4 },
        { kind: 'dense' },
      ]),
  },
  {
    id: 'masked rows (documents with padding)',
    make: () => makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 40, Sk: 40, D: 4, Dv: 6 }, { kind: 'documents', offsets: [0, 10, 30] }),
  },
  {
    id: 'causal top-left Sq<Sk',
    make: () => makeRequest({ B: 1, Hq: 1, Hkv: 1, Sq: 20, Sk: 90, D: 8, Dv: 8 }, { kind: 'causal' }, { queryOffset: 0 }),
  },
  {
    id: 'topk ties within local',
    make: () =>
      withDuplicateKeys(
        makeRequest({ B: 1, Hq: 2, Hkv: 1, Sq: 45, Sk: 45, D: 6, Dv: 6 }, { kind: 'topk', k: 3, within: { kind: 'local', left: 6, right: 6 } }),
      ),
  },
  {
    id: 'cluster gqa',
    make: () =>
      makeRequest(
        { B: 1, Hq: 2, Hkv: 1, Sq: 33, Sk: 33, D: 4, Dv: 4 },
        {
          kind: 'cluster',
          centroids: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 1],
          ],
        },
      ),
  },
  {
    id: 'mixed per-head content',
    make: () =>
      makeRequest({ B: 1, Hq: 2, Hkv: 2, Sq: 30, Sk: 30, D: 4, Dv: 4 }, [
        { kind: 'topk', k: 4 },
        {
          kind: 'cluster',
          centroids: [
            [1, 1, 0, 0],
            [0, 0, 1, -1],
          ],
          within: { kind: 'causal' },
        },
      ]),
  },
];
