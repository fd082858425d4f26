import { SparseAttentionError } from '@sparse/core';
import type { Chunk, TensorName } from './chunks.js';
import type { DeviceContext } from './device.js';
import { type BindingRef, chunkBindings, encodeChunk, getKernels, type Kernels, ParamsWriter, type SharedBuffers } from './encode.js';
import { BufferUsage, MAP_READ } from './gpu-constants.js';
import { isShared } from './inputs.js';
import type { Prepared } from './prepare.js';

const STORAGE_IN = BufferUsage.STORAGE | BufferUsage.COPY_DST;
const STORAGE_OUT = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

export interface RunStats {
  chunks: number;
  dispatches: number;
  submits: number;
}

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

/**
 * Runs `body` inside validation, out-of-memory and internal error scopes; any captured error is thrown. `body` is
 * synchronous so that no other call's commands can land inside these scopes (the scope stack is per device).
 */
export async function scoped<T>(device: GPUDevice, body: () => T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  let value: T | undefined;
  let thrown: unknown;
  let failed = false;
  try {
    value = body();
  } catch (e) {
    thrown = e;
    failed = true;
  }
  const pops = [device.popErrorScope(), device.popErrorScope(), device.popErrorScope()];
  const [internal, oom, validation] = await Promise.all(pops);
  if (failed) throw thrown;
  if (oom) throw new SparseAttentionError('RESOURCE_LIMIT', `webgpu: the device ran out of memory: ${oom.message}`, { field: 'device', cause: oom });
  const err = validation ?? internal;
  if (err)
    throw new SparseAttentionError('INTERNAL', `webgpu: ${validation ? 'validation' : 'internal'} error: ${err.message}`, { field: 'device', cause: err });
  return value as T;
}

function sharedBuffers(p: Prepared, lease: Lease, slots: number, lse?: GPUBuffer): SharedBuffers {
  return {
    meta: lease.upload(p.meta.words, STORAGE_IN, 'meta'),
    aux: lease.take(p.auxWords * 4, BufferUsage.STORAGE, 'aux'),
    lse: lse ?? lease.take(p.plan.returnLse ? p.lseWords * 4 : 16, STORAGE_OUT, 'lse'),
    uniforms: lease.take(Math.max(1, slots) * 256, UNIFORM, 'params'),
  };
}

function encodeChunks(
  ctx: DeviceContext,
  p: Prepared,
  kernels: Kernels,
  chunks: readonly Chunk[],
  bindsOf: (c: Chunk) => Record<TensorName, BindingRef>,
  shared: SharedBuffers,
  encoder: GPUCommandEncoder,
): number {
  const params = new ParamsWriter(chunks.reduce((n, c) => n + p.slotsPerChunk(c), 0));
  const pass = encoder.beginComputePass({ label: 'sparse-webgpu attention' });
  let dispatches = 0;
  for (const c of chunks) dispatches += encodeChunk(ctx, p, kernels, c, bindsOf(c), shared, params, pass);
  pass.end();
  ctx.device.queue.writeBuffer(shared.uniforms, 0, params.bytes, 0, params.next * 256);
  return dispatches;
}

async function readBack(staging: GPUBuffer, bytes: number, into: Float32Array, at: number): Promise<void> {
  await staging.mapAsync(MAP_READ, 0, bytes);
  into.set(new Float32Array(staging.getMappedRange(0, bytes)), at);
  staging.unmap();
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal', { field: 'signal' });
}

export interface HostInputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

export function copyInputs(data: HostInputs): HostInputs {
  return { q: data.q.slice(), k: data.k.slice(), v: data.v.slice() };
}

/**
 * The host inputs of a call, read when the call is made: uploaded when each tensor fits one buffer, else private
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

/** Synchronous: uploads or copies q, k, v now. `isPrivate` says the arrays are already the call's own copies. */
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

/**
 * Host arrays in, host arrays out, from inputs staged by stageInputs. Tensors that fit maxBufferSize were
 * uploaded once and each chunk binds its range; larger ones are uploaded, run and read back chunk by chunk.
 */
export async function runHost(
  ctx: DeviceContext,
  p: Prepared,
  input: StagedInputs,
  signal: AbortSignal | undefined,
): Promise<{ out: Float32Array; lse: Float32Array | null; stats: RunStats }> {
  const { device, limits } = ctx;
  const stats: RunStats = { chunks: p.chunks.length, dispatches: 0, submits: 0 };
  const lease = input.lease;
  try {
    await input.uploaded;
    const kernels = await getKernels(ctx, p);
    checkAbort(signal);
    const out = new Float32Array(p.geo.o.total);
    const lseOut = p.plan.returnLse ? new Float32Array(p.lseWords) : null;
    const align = limits.minStorageBufferOffsetAlignment;
    if (input.buffers) {
      const { q, k, v } = input.buffers;
      const staged = await scoped(device, () => {
        const slots = p.chunks.reduce((n, c) => n + p.slotsPerChunk(c), 0);
        const shared = sharedBuffers(p, lease, slots);
        const o = lease.take(p.geo.o.total * 4, STORAGE_OUT, 'out');
        const buf = { q, k, v, o };
        const encoder = device.createCommandEncoder({ label: 'sparse-webgpu' });
        stats.dispatches += encodeChunks(ctx, p, kernels, p.chunks, chunkBindings(buf, align), shared, encoder);
        const outBytes = p.geo.o.total * 4;
        const stageOut = lease.take(outBytes, STAGING, 'staging out');
        encoder.copyBufferToBuffer(o, 0, stageOut, 0, outBytes);
        let stageLse: GPUBuffer | null = null;
        if (lseOut) {
          stageLse = lease.take(p.lseWords * 4, STAGING, 'staging lse');
          encoder.copyBufferToBuffer(shared.lse, 0, stageLse, 0, p.lseWords * 4);
        }
        device.queue.submit([encoder.finish()]);
        stats.submits++;
        // Errors first: an invalid submission leaves the staging buffers untouched.
        return { stageOut, stageLse, outBytes };
      });
      await readBack(staged.stageOut, staged.outBytes, out, 0);
      if (staged.stageLse && lseOut) await readBack(staged.stageLse, p.lseWords * 4, lseOut, 0);
    } else {
      const data = input.copies!;
      const slotsAll = p.chunks.reduce((n, c) => Math.max(n, p.slotsPerChunk(c)), 0);
      const shared = await scoped(device, () => sharedBuffers(p, lease, slotsAll));
      for (const c of p.chunks) {
        checkAbort(signal);
        const inner = new Lease(ctx);
        try {
          const stage = await scoped(device, () => {
            const r = c.ranges;
            const q = inner.upload(data.q, STORAGE_IN, 'q', r.q[0], r.q[1]);
            const k = inner.upload(data.k, STORAGE_IN, 'k', r.k[0], r.k[1]);
            const v = inner.upload(data.v, STORAGE_IN, 'v', r.v[0], r.v[1]);
            const bytes = (r.o[1] - r.o[0]) * 4;
            const o = inner.take(bytes, STORAGE_OUT, 'out');
            const binds = {
              q: { buffer: q, offset: 0, size: (r.q[1] - r.q[0]) * 4, base: r.q[0] },
              k: { buffer: k, offset: 0, size: (r.k[1] - r.k[0]) * 4, base: r.k[0] },
              v: { buffer: v, offset: 0, size: (r.v[1] - r.v[0]) * 4, base: r.v[0] },
              o: { buffer: o, offset: 0, size: bytes, base: r.o[0] },
            };
            const encoder = device.createCommandEncoder({ label: 'sparse-webgpu chunk' });
            stats.dispatches += encodeChunks(ctx, p, kernels, [c], () => binds, shared, encoder);
            const staging = inner.take(bytes, STAGING, 'staging out');
            encoder.copyBufferToBuffer(o, 0, staging, 0, bytes);
            device.queue.submit([encoder.finish()]);
            stats.submits++;
            return { staging, bytes };
          });
          await readBack(stage.staging, stage.bytes, out, c.ranges.o[0]);
        } finally {
          inner.releaseAll();
        }
      }
      if (lseOut) {
        const stageLse = await scoped(device, () => {
          const s = lease.take(p.lseWords * 4, STAGING, 'staging lse');
          const encoder = device.createCommandEncoder();
          encoder.copyBufferToBuffer(shared.lse, 0, s, 0, p.lseWords * 4);
          device.queue.submit([encoder.finish()]);
          stats.submits++;
          return s;
        });
        await readBack(stageLse, p.lseWords * 4, lseOut, 0);
      }
    }
    checkAbort(signal);
    return { out, lse: lseOut, stats };
  } finally {
    lease.releaseAll();
  }
}

export interface ResidentBuffers {
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  out: GPUBuffer;
  lse: GPUBuffer | null;
}

/** Resident GPUBuffers in and out: binds sub-ranges of the caller's buffers, submits, and returns once the queue accepted it. */
export async function runResident(ctx: DeviceContext, p: Prepared, bufs: ResidentBuffers): Promise<RunStats> {
  const { device, limits } = ctx;
  const kernels = await getKernels(ctx, p);
  const align = limits.minStorageBufferOffsetAlignment;
  const stats: RunStats = { chunks: p.chunks.length, dispatches: 0, submits: 0 };
  const lease = new Lease(ctx);
  try {
    await scoped(device, () => {
      const slots = p.chunks.reduce((n, c) => n + p.slotsPerChunk(c), 0);
      const shared = sharedBuffers(p, lease, slots, bufs.lse ?? undefined);
      const encoder = device.createCommandEncoder({ label: 'sparse-webgpu resident' });
      stats.dispatches += encodeChunks(ctx, p, kernels, p.chunks, chunkBindings({ q: bufs.q, k: bufs.k, v: bufs.v, o: bufs.out }, align), shared, encoder);
      device.queue.submit([encoder.finish()]);
      stats.submits++;
    });
  } finally {
    lease.releaseAll();
  }
  return stats;
}
