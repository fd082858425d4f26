import type { AttentionPlan, ResidentRequest, ResidentResult } from '@sparse/core';
import { fail, type Kit, planAttentionShapes, shapeOf, throwRefusal } from '@sparse/core/backend';
import type { Planner } from './check.js';
import { type DeviceContext, lostBeforeCall } from './device.js';
import { chunkBindings, encodeChunks, getKernels } from './encode.js';
import { BufferUsage } from './gpu-constants.js';
import { keepAlive } from './keep-alive.js';
import { Lease, sharedBuffers } from './lease.js';
import type { Prepared } from './prepare.js';
import type { RunStats } from './run-info.js';
import { scoped } from './scope.js';

/** A float32 tensor resident in a GPUBuffer, row-major from byte 0, shaped like a host tensor. */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: readonly number[];
}

/** Core's resident request on GPUBuffers, and where to write the outputs. */
export interface WebGpuResidentRequest extends ResidentRequest<GpuTensor> {
  /** Where to write out ([B, Hq, Sq, Dv] in the layout); created (STORAGE | COPY_SRC | COPY_DST) when absent. */
  out?: GPUBuffer;
  /** Where to write lse ([B, Hq, Sq]) when returnLse; created when absent. */
  lse?: GPUBuffer;
}

function product(shape: readonly number[]): number {
  return Array.isArray(shape) ? shape.reduce((a: number, b: number) => a * b, 1) : 0;
}

function checkBuffer(buffer: unknown, name: string, elements: number): void {
  const b = buffer as GPUBuffer | undefined;
  if (!b || typeof b !== 'object' || typeof b.size !== 'number' || typeof b.usage !== 'number')
    fail('INVALID_ARGUMENT', `${name}.buffer`, 'must be a GPUBuffer', buffer);
  if (b.size < elements * 4) fail('INVALID_SHAPE', `${name}.buffer.size`, `must hold ${elements} float32 values (${elements * 4} bytes)`, b.size);
  if ((b.usage & BufferUsage.STORAGE) === 0) fail('INVALID_ARGUMENT', `${name}.buffer.usage`, 'must include GPUBufferUsage.STORAGE', b.usage);
}

/** Validates a resident request with core's rules (planAttentionShapes: shapes, options, patterns), then its buffers. */
export function planResident(request: WebGpuResidentRequest): AttentionPlan {
  if (typeof request !== 'object' || request === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v and pattern', request);
  const shape = (t: GpuTensor | undefined, name: string) => {
    if (typeof t !== 'object' || t === null) fail('INVALID_SHAPE', name, 'must be { buffer: GPUBuffer, shape: [4 sizes] }', t);
    return t.shape;
  };
  const plan = planAttentionShapes({ ...request, q: shape(request.q, 'q'), k: shape(request.k, 'k'), v: shape(request.v, 'v') });
  checkBuffer(request.q.buffer, 'q', product(request.q.shape));
  checkBuffer(request.k.buffer, 'k', product(request.k.shape));
  checkBuffer(request.v.buffer, 'v', product(request.v.shape));
  const outElems = plan.batch * plan.headsQ * plan.seqQ * plan.headDimV;
  if (request.out !== undefined) checkBuffer(request.out, 'out', outElems);
  if (request.lse !== undefined) {
    if (!plan.returnLse) fail('INVALID_ARGUMENT', 'lse', 'is only written when returnLse is true');
    checkBuffer(request.lse, 'lse', plan.batch * plan.headsQ * plan.seqQ);
    if (request.lse === request.out) fail('INVALID_ARGUMENT', 'lse', 'must be a different buffer from out');
  }
  for (const name of ['q', 'k', 'v'] as const) {
    const b = request[name].buffer;
    if (request.out !== undefined && b === request.out) fail('INVALID_ARGUMENT', 'out', `must not be the same buffer as ${name}`);
    if (request.lse !== undefined && b === request.lse) fail('INVALID_ARGUMENT', 'lse', `must not be the same buffer as ${name}`);
  }
  return plan;
}

const OUTPUT_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** The caller's output buffers, or new ones (owned by the caller) when absent. */
async function residentOutputs(ctx: DeviceContext, plan: AttentionPlan, request: WebGpuResidentRequest): Promise<ResidentResult<GpuTensor>> {
  const { batch: B, headsQ: Hq, seqQ: Sq, headDimV: Dv, layout } = plan;
  return scoped(ctx.device, () => {
    const out = request.out ?? ctx.device.createBuffer({ size: Math.max(16, B * Hq * Sq * Dv * 4), usage: OUTPUT_USAGE, label: 'sparse-webgpu out' });
    const result: ResidentResult<GpuTensor> = { out: { buffer: out, shape: shapeOf(layout, B, Hq, Sq, Dv) } };
    if (plan.returnLse) {
      const lse = request.lse ?? ctx.device.createBuffer({ size: Math.max(16, B * Hq * Sq * 4), usage: OUTPUT_USAGE, label: 'sparse-webgpu lse' });
      result.lse = { buffer: lse, shape: [B, Hq, Sq] };
    }
    return result;
  });
}

/** Binds sub-ranges of the caller's buffers, submits, and returns once the queue accepted the work. */
async function runResident(ctx: DeviceContext, p: Prepared, io: Record<'q' | 'k' | 'v' | 'o', GPUBuffer>, lse: GPUBuffer | undefined): Promise<RunStats> {
  const { device, limits } = ctx;
  const kernels = await getKernels(ctx, p);
  const stats: RunStats = { chunks: p.chunks.length, dispatches: 0, submits: 0 };
  const lease = new Lease(ctx);
  try {
    await scoped(device, () => {
      const slots = p.chunks.reduce((n, c) => n + p.slotsPerChunk(c), 0);
      const shared = sharedBuffers(p, lease, slots, lse);
      const encoder = device.createCommandEncoder({ label: 'sparse-webgpu resident' });
      stats.dispatches += encodeChunks(ctx, p, kernels, p.chunks, chunkBindings(io, limits.minStorageBufferOffsetAlignment), shared, encoder);
      device.queue.submit([encoder.finish()]);
      stats.submits++;
    });
  } finally {
    lease.releaseAll();
  }
  return stats;
}

const refuse = throwRefusal;

/**
 * attentionResident: GPUBuffers in and out on the backend's device, through the kit's gate (disposed, abort,
 * device start, typed errors, lastRun). Validated before the device is touched; refused by the same check as
 * attention(). The whole call runs as one piece (no residue groups: the buffers are the caller's layout).
 */
export function residentEntry(kit: Kit<DeviceContext>, planner: Planner) {
  return (request: WebGpuResidentRequest, options?: { signal?: AbortSignal }): Promise<ResidentResult<GpuTensor>> => {
    // Once disposed, kit.call refuses the call whatever the request.
    let plan!: AttentionPlan;
    if (!kit.disposed()) {
      try {
        plan = planResident(request);
        refuse(planner.check(plan, kit.live()));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return kit.call(
      (ctx) =>
        keepAlive(async () => {
          const t0 = performance.now();
          if (ctx.lost) throw lostBeforeCall(ctx);
          refuse(planner.check(plan, ctx));
          const p = planner.plan(plan, ctx.limits);
          const outputs = await residentOutputs(ctx, plan, request);
          const stats = await runResident(
            ctx,
            p,
            { q: request.q.buffer, k: request.k.buffer, v: request.v.buffer, o: outputs.out.buffer },
            outputs.lse?.buffer,
          );
          ctx.last = { prepared: p, stats };
          kit.record(ctx, 1, performance.now() - t0);
          return outputs;
        }),
      options?.signal,
    );
  };
}
