import type { AttentionRequest, AttentionResult, Backend } from '@sparse/core';
import type { CpuWasmBackend } from '@sparse/cpu-wasm';
import { rowRange } from '../data.js';
import { seqQ } from '../workloads.js';
import type { Prepared, RunContext } from './target.js';

/**
 * How a library backend is called in the timed region of a case. Prefill and the plain decode targets use
 * `perCall`: one `backend.attention(request)` with host arrays, the whole kv cache passed on every call. The
 * `cpu-wasm kv-cache` targets use `kvCacheCall`: the cache stays resident in the backend, set up outside the
 * timed region in `prepare`, and `call` times one decode step.
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

/** A backend with a resident KV cache (`@sparse/cpu-wasm`'s `kvCache`, `attentionResident`, `download`). */
export type KvCacheBackend = Backend & Pick<CpuWasmBackend, 'kvCache' | 'attentionResident' | 'download'>;

export function hasKvCache(backend: Backend): backend is KvCacheBackend {
  const b = backend as Partial<KvCacheBackend>;
  return typeof b.kvCache === 'function' && typeof b.attentionResident === 'function' && typeof b.download === 'function';
}

/**
 * How the resident KV cache of a decode case is laid out: a ring of `capacity` positions keeping the window when
 * the window does not reach back to position 0 (w ≤ the cached tokens), else a plain cache of Sk positions.
 */
export function kvCacheLayout(c: { seq: number; queries?: number; window: number }): { ring: boolean; capacity: number; window?: number } {
  const Sq = seqQ(c);
  const cached = c.seq - Sq;
  return c.window <= cached ? { ring: true, capacity: c.window + Sq, window: c.window } : { ring: false, capacity: c.seq };
}

/**
 * Decode with the KV cache resident in the backend, the way a user runs token-by-token decoding on cpu-wasm.
 * Set-up (not timed): `backend.kvCache()` and one append of the cached positions 0 … Sk − Sq − 1. A timed step:
 * `cache.append()` of the Sq new K/V rows, `attentionResident({ q, k: cache, v: cache, pattern })` with q a host
 * tensor (queryOffset by default the cache's length − Sq = Sk − Sq), `download(out)` and `out.release()`.
 *
 * Between steps (not timed) `cache.truncate(Sk − Sq)` drops the rows the step appended, so every step does the same
 * work over a cache that stays where it is in memory, as in a model's decode loop (the next append writes the same
 * slots again; a ring of capacity w + Sq still holds every key the window reaches).
 */
export const kvCacheCall: CallStrategy = {
  note: 'kv cache resident in the backend (set up once, not timed); per step: append the Sq new K/V rows, attentionResident with q from the host, download out (then truncate back, not timed)',
  async prepare(backend, request, ctx) {
    if (!hasKvCache(backend)) throw new Error('this backend has no kvCache() / attentionResident() / download()');
    const b = backend;
    const c = ctx.case;
    const Sq = seqQ(c);
    const cached = c.seq - Sq;
    const { k, v, q, ...rest } = request;
    const [, Hkv, , D] = k.shape as number[];
    const Dv = v.shape[3]!;
    const layout = kvCacheLayout(c);
    const newK = rowRange(k, cached, Sq);
    const newV = rowRange(v, cached, Sq);

    const cache = await b.kvCache({ headsKv: Hkv!, headDim: D!, headDimV: Dv, capacity: layout.capacity, ...(layout.ring ? { window: layout.window } : {}) });
    try {
      // At most `slots` positions per append (a ring refuses more at once; slots = capacity rounded up to the key tile).
      const chunk = cache.config.slots;
      for (let at = 0; at < cached; at += chunk) {
        const n = Math.min(chunk, cached - at);
        await cache.append(rowRange(k, at, n), rowRange(v, at, n));
      }
    } catch (e) {
      cache.release();
      throw e;
    }
    return {
      before: () => cache.truncate(cached),
      call: async () => {
        await cache.append(newK, newV);
        const r = await b.attentionResident({ ...rest, q, k: cache, v: cache });
        try {
          return { out: await b.download(r.out) };
        } finally {
          r.out.release();
          r.lse?.release();
        }
      },
      release: () => cache.release(),
    };
  },
};

/** The decode call of a backend target: the one place that chooses it (see CallStrategy). */
export function decodeCall(_backendName: string, _backend: Backend, variant?: 'kv-cache'): CallStrategy {
  return variant === 'kv-cache' ? kvCacheCall : perCall;
}
