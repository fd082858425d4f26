import type { AttentionPlan, AttentionRequest, AttentionResult } from '@sparse/core';
import { shapeOf, throwIfAborted } from '@sparse/core/backend';
import type { Planner } from './check.js';
import type { DeviceContext, Devices } from './device.js';
import { chunkBindings, encodeChunks, getKernels } from './encode.js';
import { MAP_READ } from './gpu-constants.js';
import { Lease, STAGING, STORAGE_IN, STORAGE_OUT, sharedBuffers } from './lease.js';
import type { Prepared } from './prepare.js';
import type { RunStats } from './run-info.js';
import { scoped } from './scope.js';
import { copyInputs, type StagedInputs, stageInputs } from './stage.js';

async function readBack(staging: GPUBuffer, bytes: number, into: Float32Array, at: number): Promise<void> {
  await staging.mapAsync(MAP_READ, 0, bytes);
  into.set(new Float32Array(staging.getMappedRange(0, bytes)), at);
  staging.unmap();
}

/**
 * One piece of a host call (the device code's run): q, k, v are uploaded (or copied) before the first await, as
 * the kit requires, then the piece runs and its out and lse are read back.
 */
export async function runPiece(
  ctx: DeviceContext,
  request: AttentionRequest,
  plan: AttentionPlan,
  signal: AbortSignal | undefined,
  planner: Planner,
  devices: Devices,
): Promise<AttentionResult> {
  const data = { q: request.q.data, k: request.k.data, v: request.v.data };
  let p: Prepared;
  let input: StagedInputs;
  if (ctx.lost) {
    // Lost since the last call: copies now, then a new device (or DEVICE_LOST for a caller's device).
    const copies = ctx.owned ? copyInputs(data) : data;
    await devices.ready(ctx);
    p = planner.plan(plan, ctx.limits);
    input = stageInputs(ctx, p, copies, true);
  } else {
    p = planner.plan(plan, ctx.limits);
    input = stageInputs(ctx, p, data, false);
  }
  const r = await runHost(ctx, p, input, signal);
  ctx.last = { prepared: p, stats: r.stats };
  const result: AttentionResult = { out: { data: r.out, shape: shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) } };
  if (r.lse) result.lse = { data: r.lse, shape: [plan.batch, plan.headsQ, plan.seqQ] };
  return result;
}

/**
 * Host arrays in, host arrays out, from inputs staged by stageInputs. Tensors that fit maxBufferSize were
 * uploaded once and each chunk binds its range; larger ones are uploaded, run and read back chunk by chunk.
 */
async function runHost(
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
    throwIfAborted(signal);
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
        throwIfAborted(signal);
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
    throwIfAborted(signal);
    return { out, lse: lseOut, stats };
  } finally {
    lease.releaseAll();
  }
}
