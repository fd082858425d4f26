import { SparseAttentionError } from '@sparse/core';
import { SHADER_STAGE_COMPUTE } from './gpu-constants.js';

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Binding kinds of a kernel's single bind group, by binding number. */
export type BindingKinds = Record<number, GPUBufferBindingType>;

function entries(kinds: BindingKinds): GPUBindGroupLayoutEntry[] {
  return Object.entries(kinds).map(([n, type]) => ({ binding: Number(n), visibility: SHADER_STAGE_COMPUTE, buffer: { type } }));
}

/**
 * Compiles one compute kernel. WGSL and validation errors are turned into a SparseAttentionError (INTERNAL)
 * that carries the compiler's messages, never a silently invalid pipeline. `sync` uses createComputePipeline
 * instead of createComputePipelineAsync.
 */
export async function compileKernel(device: GPUDevice, label: string, code: string, kinds: BindingKinds, sync = false): Promise<Kernel> {
  // The scope covers only synchronous calls, so no other call's commands can land in it.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label });
  const layout = device.createBindGroupLayout({ entries: entries(kinds), label });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout], label });
  const descriptor: GPUComputePipelineDescriptor = { label, layout: pipelineLayout, compute: { module, entryPoint: 'main' } };
  let pipeline: GPUComputePipeline | undefined;
  let failure: unknown;
  if (sync) {
    try {
      pipeline = device.createComputePipeline(descriptor);
    } catch (e) {
      failure = e;
    }
  }
  const scope = device.popErrorScope();
  if (!sync) {
    try {
      pipeline = await device.createComputePipelineAsync(descriptor);
    } catch (e) {
      failure = e;
    }
  }
  const scoped = await scope;
  if (pipeline && !scoped) return { pipeline, layout };
  let messages: string[] = [];
  try {
    const info = await module.getCompilationInfo();
    messages = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`);
  } catch {
    // compilation info is optional; the scope's message is enough
  }
  const detail = messages.length > 0 ? messages.join('; ') : (scoped?.message ?? (failure as Error | undefined)?.message ?? 'unknown error');
  throw new SparseAttentionError('INTERNAL', `webgpu: kernel "${label}" failed to compile: ${detail}`, { field: 'kernel', cause: failure ?? scoped });
}

/** Pipelines cached per configuration for one device. A failed compile is not cached. */
export class PipelineCache {
  private readonly cache = new Map<string, Promise<Kernel>>();
  compiled = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly sync: boolean,
  ) {}

  get(key: string, code: () => string, kinds: BindingKinds): Promise<Kernel> {
    let hit = this.cache.get(key);
    if (!hit) {
      this.compiled++;
      hit = compileKernel(this.device, key, code(), kinds, this.sync);
      this.cache.set(key, hit);
      hit.catch(() => this.cache.delete(key));
    }
    return hit;
  }

  get size(): number {
    return this.cache.size;
  }
}
