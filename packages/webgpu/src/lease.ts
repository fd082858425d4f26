import { SparseAttentionError } from '@sparse/core';
import type { DeviceContext } from './device.js';
import type { SharedBuffers } from './encode.js';
import { BufferUsage } from './gpu-constants.js';
import { isShared } from './inputs.js';
import type { Prepared } from './prepare.js';

export const STORAGE_IN = BufferUsage.STORAGE | BufferUsage.COPY_DST;
export const STORAGE_OUT = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
export const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

/** Buffers taken from the pool for one call, all given back at the end. */
export class Lease {
  private readonly taken: GPUBuffer[] = [];
  constructor(private readonly ctx: DeviceContext) {}
  take(bytes: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.pool.acquire(bytes, usage, label);
    this.taken.push(b);
    return b;
  }
  upload(data: Float32Array | Uint32Array, usage: number, label: string, from = 0, to = data.length): GPUBuffer {
    // An empty upload would leave a pooled buffer holding an earlier call's data for the kernel to read.
    if (!(to > from)) throw new SparseAttentionError('INTERNAL', `webgpu: nothing to upload for ${label} (elements ${from} to ${to})`, { field: label });
    const b = this.take((to - from) * data.BYTES_PER_ELEMENT, usage, label);
    // Dawn's writeBuffer crashes the process on a view of a SharedArrayBuffer: copy such a range once.
    if (isShared(data)) this.ctx.device.queue.writeBuffer(b, 0, data.slice(from, to) as Float32Array<ArrayBuffer>);
    else this.ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>, from, to - from);
    return b;
  }
  releaseAll(): void {
    if (this.ctx.lost) return;
    for (const b of this.taken.splice(0)) this.ctx.pool.release(b);
  }
}

/** The buffers every chunk of a piece shares: the kernels' table, aux, lse (the caller's, when resident) and params. */
export function sharedBuffers(p: Prepared, lease: Lease, slots: number, lse?: GPUBuffer): SharedBuffers {
  return {
    table: lease.upload(p.table.words, STORAGE_IN, 'table'),
    aux: lease.take(p.auxWords * 4, BufferUsage.STORAGE, 'aux'),
    lse: lse ?? lease.take(p.plan.returnLse ? p.lseWords * 4 : 16, STORAGE_OUT, 'lse'),
    uniforms: lease.take(Math.max(1, slots) * 256, UNIFORM, 'params'),
  };
}
