import type { AttentionPlan, AttentionRequest, AttentionResult, HostTensor } from '@sparse/core';
import { shapeOf, throwIfAborted } from '@sparse/core/backend';
import { attendTensors } from './compute.js';
import { activate, type TfContext } from './device.js';
import type { TfjsSettings } from './options.js';
import type { Tensor } from './types.js';

/**
 * One piece of a host call: upload, the tf.js ops, read back; every tensor it made is disposed. The kit may hand
 * over the caller's own arrays, and tf.js's cpu backend keeps a reference to an uploaded Float32Array instead of
 * copying it: so every op is issued before the first await (tf.js issues them synchronously), and when the tf.js
 * backend has to be initialised again first, the arrays are copied before waiting for it.
 */
export async function runPiece(
  ctx: TfContext,
  settings: TfjsSettings,
  request: AttentionRequest,
  plan: AttentionPlan,
  signal?: AbortSignal,
): Promise<AttentionResult> {
  const { tf } = ctx;
  const switching = activate(ctx);
  const own = (x: HostTensor): HostTensor => (switching ? { data: x.data.slice(), shape: x.shape } : x);
  const inputs = { q: own(request.q), k: own(request.k), v: own(request.v) };
  if (switching) await switching;
  const tensors: Tensor[] = [];
  try {
    const upload = (x: HostTensor) => {
      const tensor = tf.tensor(x.data, [...x.shape], 'float32');
      tensors.push(tensor);
      return tensor;
    };
    const r = attendTensors(ctx, settings, { q: upload(inputs.q), k: upload(inputs.k), v: upload(inputs.v) }, plan);
    tensors.push(r.out);
    if (r.lse) tensors.push(r.lse);
    const out = (await r.out.data()) as Float32Array;
    const lse = r.lse ? ((await r.lse.data()) as Float32Array) : undefined;
    throwIfAborted(signal);
    const { batch, headsQ, seqQ, headDimV, layout } = plan;
    return {
      out: { data: out, shape: shapeOf(layout, batch, headsQ, seqQ, headDimV) },
      ...(lse ? { lse: { data: lse, shape: [batch, headsQ, seqQ] } } : {}),
    };
  } finally {
    for (const x of tensors) x.dispose();
  }
}
