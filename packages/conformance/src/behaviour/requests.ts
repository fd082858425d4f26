// The requests the behaviour suite runs: small (fast on any backend), covering both layouts, GQA/MQA, a dilated
// call that partitions, per-head patterns, masked rows, Sq ≠ Sk, lse on and off.
import type { AttentionRequest, Backend, Pattern } from '@sparse/core';
import { makeRequest } from '@sparse/core/reference';
import { BehaviourFailure } from './assert.js';
import type { SlowCall } from './types.js';

/** A small causal call with lse. */
export function smallRequest(seed = 1): AttentionRequest {
  return makeRequest({ B: 1, Hq: 2, Sq: 24, D: 8, seed }, { kind: 'causal' });
}

/** Every head `dilated` with dilation 3: a backend that partitions dilation runs it as 3 residue groups. */
export function dilatedRequest(seed = 5): AttentionRequest {
  return makeRequest({ B: 1, Hq: 2, Sq: 48, D: 8, seed }, { kind: 'dilated', dilation: 3, left: 3, right: 2 });
}

/** The long call the abort part cancels. */
export function slowRequest(s: SlowCall = {}): AttentionRequest {
  const Sq = s.Sq ?? 1024;
  return makeRequest({ B: s.B ?? 1, Hq: s.H ?? 4, Sq, Sk: s.Sk ?? Sq, D: s.D ?? 64, seed: 99 }, { kind: 'causal' });
}

/** Eight different calls, for the burst and the resident part. */
export function burstRequests(): { label: string; request: AttentionRequest }[] {
  const perHead: Pattern[] = [{ kind: 'causal' }, { kind: 'local', left: 3, right: 1 }, { kind: 'dense' }, { kind: 'dilated', dilation: 2, left: 4, right: 4 }];
  return [
    { label: 'dense bhsd', request: makeRequest({ Hq: 2, Sq: 17, D: 8, seed: 11 }, { kind: 'dense' }) },
    {
      label: 'causal GQA bshd Sq<Sk Dv!=D',
      request: makeRequest({ B: 2, Hq: 4, Hkv: 2, Sq: 33, Sk: 40, D: 16, Dv: 8, layout: 'bshd', seed: 21 }, { kind: 'causal' }),
    },
    { label: 'local with scale', request: makeRequest({ Hq: 2, Sq: 50, D: 8, seed: 31 }, { kind: 'local', left: 4, right: 2 }, { scale: 0.3 }) },
    { label: 'dilated 3 (every head)', request: makeRequest({ B: 2, Hq: 2, Sq: 40, D: 8, seed: 41 }, { kind: 'dilated', dilation: 3, left: 2, right: 2 }) },
    { label: 'per-head MQA bshd', request: makeRequest({ Hq: 4, Hkv: 1, Sq: 36, D: 8, layout: 'bshd', seed: 51 }, perHead) },
    {
      label: 'documents with masked rows',
      request: makeRequest({ Hq: 2, Hkv: 1, Sq: 40, D: 4, Dv: 6, seed: 61 }, { kind: 'documents', offsets: [0, 10, 30] }),
    },
    {
      label: 'causal top-left Sq<Sk, D 5',
      request: makeRequest({ Sq: 20, Sk: 60, D: 5, seed: 71 }, { kind: 'causal' }, { queryOffset: 0 }),
    },
    {
      label: 'topk within causal, no lse',
      request: makeRequest({ Hq: 2, Sq: 30, D: 4, seed: 81 }, { kind: 'topk', k: 4, within: { kind: 'causal' } }, { returnLse: false }),
    },
  ];
}

/**
 * The calls a backend says it runs (supports() === true): a backend may refuse a pattern kind or a size outright,
 * which the inputs part does not judge. Fails when it refuses every one.
 */
export function accepted<C extends { label: string; request: AttentionRequest }>(b: Backend, calls: C[]): C[] {
  const kept = calls.filter(({ request }) => b.supports(request) === true);
  if (kept.length === 0) {
    const why = calls.map(({ label, request }) => `${label}: ${String(b.supports(request))}`).join('; ');
    throw new BehaviourFailure(`${b.name}: supports() refuses every call of the suite (${why})`);
  }
  return kept;
}
