import type { Chunk, TensorName } from './chunks.js';
import type { DeviceContext } from './device.js';
import type { Kernel } from './pipelines.js';
import { labelSlices, type Prepared } from './prepare.js';
import { attentionShader } from './wgsl/attention.js';
import { BINDING, bindingKinds } from './wgsl/bindings.js';
import { configKey, derived } from './wgsl/config.js';
import { LABELS_WG, labelsShader } from './wgsl/labels.js';
import { FLAGS, NEG_INF_BITS, PARAMS_SLOT_BYTES, type Params, packParams } from './wgsl/params.js';

/** A storage binding of part of a buffer; `base` is the element index the binding starts at. */
export interface BindingRef {
  buffer: GPUBuffer;
  offset: number;
  size: number;
  base: number;
}

/** Binds elements [lo, hi) of a buffer whose element 0 is `origin`, aligning the offset down as WebGPU requires. */
export function subrange(buffer: GPUBuffer, lo: number, hi: number, align: number, origin = 0): BindingRef {
  const offset = Math.floor(((lo - origin) * 4) / align) * align;
  return { buffer, offset, size: (hi - origin) * 4 - offset, base: origin + offset / 4 };
}

/** A chunk's q/k/v/out bindings: aligned sub-ranges of whole-tensor buffers. */
export function chunkBindings(buffers: Record<TensorName, GPUBuffer>, align: number): (c: Chunk) => Record<TensorName, BindingRef> {
  return (c) => {
    const r = c.ranges;
    return {
      q: subrange(buffers.q, r.q[0], r.q[1], align),
      k: subrange(buffers.k, r.k[0], r.k[1], align),
      v: subrange(buffers.v, r.v[0], r.v[1], align),
      o: subrange(buffers.o, r.o[0], r.o[1], align),
    };
  };
}

export interface Kernels {
  main: Kernel;
  hist?: Kernel;
  tie?: Kernel;
  labels?: Kernel;
}

const MAIN_KINDS = bindingKinds('main');
const PASS_KINDS = bindingKinds('pass');

export async function getKernels(ctx: DeviceContext, p: Prepared): Promise<Kernels> {
  const key = configKey(p.cfg);
  const { pipelines } = ctx;
  const [main, hist, tie, labels] = await Promise.all([
    pipelines.get(`attention.main.${key}`, () => attentionShader(p.cfg, 'main'), MAIN_KINDS),
    p.table.hasTopk ? pipelines.get(`attention.hist.${key}`, () => attentionShader(p.cfg, 'hist'), PASS_KINDS) : undefined,
    p.table.hasTopk ? pipelines.get(`attention.tie.${key}`, () => attentionShader(p.cfg, 'tie'), PASS_KINDS) : undefined,
    p.table.hasCluster ? pipelines.get(`labels.D${p.cfg.D}`, () => labelsShader(p.cfg.D), PASS_KINDS) : undefined,
  ]);
  return { main, hist, tie, labels };
}

/** Buffers shared by every chunk of a call. */
export interface SharedBuffers {
  table: GPUBuffer;
  aux: GPUBuffer;
  lse: GPUBuffer;
  uniforms: GPUBuffer;
}

/** Packs params slots as dispatches are encoded; upload once before submit. */
export class ParamsWriter {
  readonly bytes: ArrayBuffer;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  next = 0;
  constructor(readonly slots: number) {
    this.bytes = new ArrayBuffer(Math.max(1, slots) * PARAMS_SLOT_BYTES);
    this.u32 = new Uint32Array(this.bytes);
    this.f32 = new Float32Array(this.bytes);
  }
  push(params: Params): number {
    packParams(params, this.u32, this.f32, this.next);
    return this.next++;
  }
}

function baseParams(p: Prepared, c: Chunk, binds: Record<TensorName, BindingRef>): Params {
  const { plan, geo } = p;
  return {
    Hq: plan.headsQ,
    Hkv: plan.headsKv,
    Sq: plan.seqQ,
    Sk: plan.seqK,
    group: plan.group,
    scale: plan.scale,
    flags: plan.returnLse ? FLAGS.lse : 0,
    radix: 0,
    qsB: geo.q.sB,
    qsH: geo.q.sH,
    qsS: geo.q.sS,
    qBase: binds.q.base,
    ksB: geo.k.sB,
    ksH: geo.k.sH,
    ksS: geo.k.sS,
    kBase: binds.k.base,
    vsB: geo.v.sB,
    vsH: geo.v.sH,
    vsS: geo.v.sS,
    vBase: binds.v.base,
    osB: geo.o.sB,
    osH: geo.o.sH,
    osS: geo.o.sS,
    oBase: binds.o.base,
    b0: c.b0,
    h0: c.h0,
    qb0: c.qb0,
    negInf: NEG_INF_BITS,
    stateOff: p.stateOff,
    labelOff: p.labelOff,
    tokQ0: c.r0,
    tokQn: c.r1 - c.r0,
    tokK0: c.j0,
    tokKn: c.j1 - c.j0,
    tokOff: 0,
    ...p.table.sections,
  };
}

function entry(binding: number, r: BindingRef): GPUBindGroupEntry {
  return { binding, resource: { buffer: r.buffer, offset: r.offset, size: r.size } };
}

function whole(binding: number, buffer: GPUBuffer): GPUBindGroupEntry {
  return { binding, resource: { buffer } };
}

/**
 * Encodes the dispatches of one chunk into a compute pass: the cluster labels pass, the top-k radix and tie
 * passes, then the fused kernel. Dispatches of one pass are ordered, so each sees the previous one's writes.
 */
export function encodeChunk(
  ctx: DeviceContext,
  p: Prepared,
  k: Kernels,
  c: Chunk,
  binds: Record<TensorName, BindingRef>,
  shared: SharedBuffers,
  params: ParamsWriter,
  pass: GPUComputePassEncoder,
): number {
  const { device, limits } = ctx;
  const base = baseParams(p, c, binds);
  let dispatches = 0;
  const group = (kernel: Kernel, slot: number, main: boolean) =>
    device.createBindGroup({
      layout: kernel.layout,
      entries: [
        { binding: BINDING.params, resource: { buffer: shared.uniforms, offset: slot * PARAMS_SLOT_BYTES, size: PARAMS_SLOT_BYTES } },
        whole(BINDING.table, shared.table),
        entry(BINDING.q, binds.q),
        entry(BINDING.k, binds.k),
        ...(main ? [entry(BINDING.v, binds.v), entry(BINDING.out, binds.o), whole(BINDING.lse, shared.lse)] : []),
        whole(BINDING.aux, shared.aux),
      ],
    });
  if (k.labels) {
    const step = LABELS_WG * limits.maxComputeWorkgroupsPerDimension;
    const tokens = c.r1 - c.r0 + (c.j1 - c.j0);
    for (let s = 0; s < labelSlices(c, limits); s++) {
      const slot = params.push({ ...base, tokOff: s * step });
      pass.setPipeline(k.labels.pipeline);
      pass.setBindGroup(0, group(k.labels, slot, false));
      pass.dispatchWorkgroups(Math.ceil(Math.min(step, tokens - s * step) / LABELS_WG), c.nh, c.nb);
      dispatches++;
    }
  }
  if (k.hist && k.tie) {
    const { NP } = derived(p.cfg);
    for (let s = 0; s < NP; s++) {
      const slot = params.push({ ...base, radix: s });
      pass.setPipeline(k.hist.pipeline);
      pass.setBindGroup(0, group(k.hist, slot, false));
      pass.dispatchWorkgroups(c.nqb, c.nh, c.nb);
    }
    const slot = params.push(base);
    pass.setPipeline(k.tie.pipeline);
    pass.setBindGroup(0, group(k.tie, slot, false));
    pass.dispatchWorkgroups(c.nqb, c.nh, c.nb);
    dispatches += NP + 1;
  }
  const slot = params.push(base);
  pass.setPipeline(k.main.pipeline);
  pass.setBindGroup(0, group(k.main, slot, true));
  pass.dispatchWorkgroups(c.nqb, c.nh, c.nb);
  return dispatches + 1;
}

/** Encodes the chunks of a piece into one compute pass and uploads their params; returns the dispatches. */
export function encodeChunks(
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
  ctx.device.queue.writeBuffer(shared.uniforms, 0, params.bytes, 0, params.next * PARAMS_SLOT_BYTES);
  return dispatches;
}
