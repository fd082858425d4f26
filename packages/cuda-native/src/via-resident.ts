import type { AttentionResult } from '@sparse/core';
import { defineBackend, type KitBackend } from '@sparse/core/backend';
import { type CudaNativeBackend, internalsOf } from './backend.js';
import type { CudaTensor } from './tensor.js';

/**
 * A Backend that answers every request through the resident entry point of `backend`: q, k, v uploaded as
 * CudaTensors, `attentionResident`, out and lse downloaded, every tensor disposed. It exists so that the
 * conformance suite (or a user's own checks) can cover the resident path with the same golden cases. It is a kit
 * backend with the wrapped backend's options (the same pieces, so results are bit-identical to its attention());
 * disposing it disposes the wrapped backend too.
 */
export function viaResident(backend: CudaNativeBackend): KitBackend {
  const inner = internalsOf(backend);
  if (!inner) throw new TypeError('viaResident: the backend must be made by cudaNative()');
  return defineBackend(
    {
      name: `${backend.name} (resident)`,
      async start() {
        const probe = await backend.probe();
        if (!probe.available) throw new Error(probe.reason ?? 'unavailable');
        return probe.device ?? backend.name;
      },
      describe: (device) => `${device}, through attentionResident`,
      // The device's own refusal; the wrapped backend checks again with its started device on each call.
      check: (plan) => inner.check(plan, null),
      async run(_device, request, _plan, signal): Promise<AttentionResult> {
        // The uploads copy q, k and v before the first await.
        const uploads = [backend.upload(request.q), backend.upload(request.k), backend.upload(request.v)];
        const made: CudaTensor[] = [];
        try {
          const [q, k, v] = await Promise.all(
            uploads.map((u) =>
              u.then((t) => {
                made.push(t);
                return t;
              }),
            ),
          );
          const { q: _q, k: _k, v: _v, ...rest } = request;
          const { out, lse } = await backend.attentionResident({ ...rest, q: q!, k: k!, v: v! }, signal ? { signal } : {});
          made.push(out);
          if (lse) made.push(lse);
          const result: AttentionResult = { out: await backend.download(out) };
          if (lse) result.lse = await backend.download(lse);
          return result;
        } finally {
          await Promise.allSettled(uploads);
          await Promise.all(made.map((t) => t.dispose().catch(() => undefined)));
        }
      },
      // Nothing of its own to free: a lost device is the wrapped backend's to restart.
      release: async () => undefined,
      tolerance: (request) => backend.tolerance(request),
    },
    inner.options.shared,
    (_kit, self) => {
      const disposeSelf = self.dispose;
      return {
        /** The kit's dispose (calls made before it finish), then the wrapped backend's. */
        dispose: () => disposeSelf().then(() => backend.dispose()),
      };
    },
  );
}
