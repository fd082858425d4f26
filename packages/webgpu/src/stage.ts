import type { DeviceContext } from './device.js';
import { Lease, STORAGE_IN } from './lease.js';
import type { Prepared } from './prepare.js';
import { scoped } from './scope.js';

export interface HostInputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

export function copyInputs(data: HostInputs): HostInputs {
  return { q: data.q.slice(), k: data.k.slice(), v: data.v.slice() };
}

/**
 * The host inputs of a piece, read when the piece starts: uploaded when each tensor fits one buffer, else private
 * host copies that the chunked run uploads piece by piece. Afterwards the caller's arrays are not read again.
 */
export interface StagedInputs {
  lease: Lease;
  buffers: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer } | null;
  /** Settles once the uploads' error scopes are popped. */
  uploaded: Promise<void>;
  copies: HostInputs | null;
}

function wholeFits(p: Prepared, limits: DeviceContext['limits']): boolean {
  return (['q', 'k', 'v', 'o'] as const).every((t) => p.geo[t].total * 4 <= limits.maxBufferSize);
}

/**
 * Synchronous: uploads or copies q, k, v now. `isPrivate` says the arrays are already the call's own copies (the
 * kit may hand over the caller's arrays or its own copies without saying which: then they are copied when chunked).
 */
export function stageInputs(ctx: DeviceContext, p: Prepared, data: HostInputs, isPrivate: boolean): StagedInputs {
  const lease = new Lease(ctx);
  if (!wholeFits(p, ctx.limits)) return { lease, buffers: null, uploaded: Promise.resolve(), copies: isPrivate ? data : copyInputs(data) };
  let buffers: StagedInputs['buffers'] = null;
  const uploaded = scoped(ctx.device, () => {
    buffers = { q: lease.upload(data.q, STORAGE_IN, 'q'), k: lease.upload(data.k, STORAGE_IN, 'k'), v: lease.upload(data.v, STORAGE_IN, 'v') };
  });
  // Awaited by runHost; this keeps a failure from counting as unhandled in the meantime.
  uploaded.catch(() => undefined);
  return { lease, buffers, uploaded, copies: null };
}
