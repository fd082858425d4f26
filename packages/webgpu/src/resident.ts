import type { AttentionPlan, Layout, Pattern } from '@sparse/core';
import { fail, planAttentionShapes, shapeOf } from '@sparse/core/backend';
import type { DeviceContext } from './device.js';
import { BufferUsage } from './gpu-constants.js';
import { scoped } from './run.js';

/** A float32 tensor resident in a GPUBuffer, row-major from byte 0, shaped like a host tensor. */
export interface GpuTensor {
  buffer: GPUBuffer;
  shape: readonly number[];
}

export interface BufferAttentionRequest {
  q: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
  pattern: Pattern | readonly Pattern[];
  scale?: number;
  queryOffset?: number;
  layout?: Layout;
  returnLse?: boolean;
  /** Where to write out ([B, Hq, Sq, Dv] in the layout); created (STORAGE | COPY_SRC | COPY_DST) when absent. */
  out?: GPUBuffer;
  /** Where to write lse ([B, Hq, Sq]) when returnLse; created when absent. */
  lse?: GPUBuffer;
}

export interface BufferAttentionResult {
  out: GpuTensor;
  lse?: GpuTensor;
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
export function checkResidentBuffers(request: BufferAttentionRequest): AttentionPlan {
  if (typeof request !== 'object' || request === null) fail('INVALID_ARGUMENT', 'request', 'must be an object with q, k, v and pattern', request);
  const host = (t: GpuTensor | undefined, name: string) => {
    if (typeof t !== 'object' || t === null) fail('INVALID_SHAPE', name, 'must be { buffer: GPUBuffer, shape: [4 sizes] }', t);
    return t.shape;
  };
  const plan = planAttentionShapes({
    q: host(request.q, 'q'),
    k: host(request.k, 'k'),
    v: host(request.v, 'v'),
    pattern: request.pattern,
    scale: request.scale,
    queryOffset: request.queryOffset,
    layout: request.layout,
    returnLse: request.returnLse,
  });
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
export async function residentOutputs(ctx: DeviceContext, plan: AttentionPlan, request: BufferAttentionRequest): Promise<BufferAttentionResult> {
  const { batch: B, headsQ: Hq, seqQ: Sq, headDimV: Dv, layout } = plan;
  return scoped(ctx.device, () => {
    const out = request.out ?? ctx.device.createBuffer({ size: Math.max(16, B * Hq * Sq * Dv * 4), usage: OUTPUT_USAGE, label: 'sparse-webgpu out' });
    const result: BufferAttentionResult = { out: { buffer: out, shape: shapeOf(layout, B, Hq, Sq, Dv) } };
    if (plan.returnLse) {
      const lse = request.lse ?? ctx.device.createBuffer({ size: Math.max(16, B * Hq * Sq * 4), usage: OUTPUT_USAGE, label: 'sparse-webgpu lse' });
      result.lse = { buffer: lse, shape: [B, Hq, Sq] };
    }
    return result;
  });
}
