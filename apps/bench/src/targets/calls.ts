import type { AttentionRequest, AttentionResult, Backend } from '@sparse/core';
import type { Prepared, RunContext } from './target.js';

/**
 * How a library backend is called in the timed region of a case. Prefill and today's decode use `perCall`: one
 * `backend.attention(request)` with host arrays, the whole kv cache passed on every call (what the backend API
 * offers now). A decode strategy that keeps the cache resident in the backend (append the new K/V rows once per
 * step, attend) is added in `decodeCall` below, and only there: it prepares the cache outside the timed region in
 * `prepare` and times the step in `call`.
 */
export interface CallStrategy {
  /** Says what is timed; added to the notes of decode results. */
  readonly note: string;
  prepare(backend: Backend, request: AttentionRequest, ctx: RunContext): Promise<Prepared<AttentionResult>> | Prepared<AttentionResult>;
}

export const perCall: CallStrategy = {
  note: 'attention(request) per step: the whole kv cache passed as host arrays on every call',
  prepare: (backend, request) => ({ call: () => backend.attention(request) }),
};

/** The decode call of a backend target: the one place that chooses it (see CallStrategy). */
export function decodeCall(_backendName: string, _backend: Backend): CallStrategy {
  return perCall;
}
