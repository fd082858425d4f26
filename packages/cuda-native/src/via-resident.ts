import type { AttentionRequest, AttentionResult, Backend, ProbeResult } from '@sparse/core';
import type { CudaNativeBackend } from './backend.js';
import type { CudaTensor } from './tensor.js';

/**
 * A Backend that answers every request through the resident entry point of `backend`: q, k, v uploaded as
 * CudaTensors, `attentionResident`, out and lse downloaded, every tensor disposed. It exists so that the
 * conformance suite (or a user's own checks) can cover the resident path with the same golden cases.
 */
export function viaResident(backend: CudaNativeBackend): Backend {
  return {
    name: `${backend.name} (resident)`,
    probe: (): Promise<ProbeResult> => backend.probe(),
    supports: (request: AttentionRequest) => backend.supports(request),

    async attention(request: AttentionRequest, options?: { signal?: AbortSignal }): Promise<AttentionResult> {
      const made: CudaTensor[] = [];
      try {
        const up = async (t: AttentionRequest['q']) => made[made.push(await backend.upload(t)) - 1]!;
        const { q: _q, k: _k, v: _v, ...rest } = request;
        const { out, lse } = await backend.attentionResident({ ...rest, q: await up(request.q), k: await up(request.k), v: await up(request.v) }, options);
        made.push(out);
        if (lse) made.push(lse);
        const result: AttentionResult = { out: await backend.download(out) };
        if (lse) result.lse = await backend.download(lse);
        return result;
      } finally {
        await Promise.all(made.map((t) => t.dispose()));
      }
    },

    dispose: () => backend.dispose(),
  };
}
