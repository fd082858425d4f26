import { SparseAttentionError } from '@sparse/core';
import { keepAlive } from './keep-alive.js';
import { clampLimits, type DeviceLimits, LIMIT_NAMES, readLimits } from './limits.js';
import { isNode, loadNodeGpu, NO_VULKAN_DRIVER, SOFTWARE_DAWN_FLAGS, softwareAdapterHelp } from './node-gpu.js';
import type { DeviceOptions } from './options.js';
import { PipelineCache } from './pipelines.js';
import { BufferPool } from './pool.js';
import type { PieceRun } from './run-info.js';

/** Everything that lives and dies with one device. */
export interface DeviceContext {
  device: GPUDevice;
  /** The backend created the device (else it is the caller's `options.device`, never destroyed here). */
  owned: boolean;
  limits: DeviceLimits;
  description: string;
  /** A software adapter (SwiftShader, llvmpipe, a fallback adapter). */
  software: boolean;
  pipelines: PipelineCache;
  pool: BufferPool;
  lost: GPUDeviceLostInfo | null;
  /** Held so Dawn's instance lives as long as the device (dawn.node tears it down when the GPU object is collected). */
  gpu: GPU | undefined;
  /** The last piece run on the device, for lastRun(). */
  last: PieceRun | null;
  /** A replacement device being made (renew). */
  renewing: Promise<void> | null;
}

interface Found {
  adapter: GPUAdapter | null;
  /** The GPU object the adapter came from. Dawn's Node binding destroys its instance once this is collected. */
  gpu?: GPU;
  reason?: string;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render|software/i;

function isSoftware(adapter: GPUAdapter): boolean {
  return SOFTWARE.test(describe(adapter, null));
}

function describe(adapter: GPUAdapter | null, device: GPUDevice | null): string {
  const info = (adapter?.info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo } | null)?.adapterInfo) as
    | (GPUAdapterInfo & { isFallbackAdapter?: boolean })
    | undefined;
  if (!info) return 'WebGPU device';
  const parts = [info.vendor, info.architecture, info.device].filter((s) => typeof s === 'string' && s.length > 0);
  let text = parts.length > 0 ? parts.join(' ') : 'WebGPU adapter';
  if (info.description) text += ` (${info.description})`;
  if (info.isFallbackAdapter || (adapter as unknown as { isFallbackAdapter?: boolean })?.isFallbackAdapter) text += ', fallback adapter (software)';
  return text;
}

function unavailable(reason: string): SparseAttentionError {
  return new SparseAttentionError('BACKEND_UNAVAILABLE', `webgpu: ${reason}`, { field: 'backend' });
}

function callerDeviceLost(info: GPUDeviceLostInfo): SparseAttentionError {
  return new SparseAttentionError(
    'DEVICE_LOST',
    `webgpu: the GPUDevice passed in options.device was lost (${info.reason}: ${info.message}); create a new device and a new backend`,
    { field: 'device' },
  );
}

/** The error of a call whose device was lost while it ran. */
export function lostDuringCall(ctx: DeviceContext, cause: unknown): SparseAttentionError {
  const info = ctx.lost!;
  const next = ctx.owned ? 'the next call creates a new device' : 'pass a new device to a new backend';
  return new SparseAttentionError('DEVICE_LOST', `webgpu: the device was lost during the call (${info.reason}: ${info.message}); ${next}`, {
    field: 'device',
    cause,
  });
}

/** The error of a resident call on a device lost since the last call: the caller's buffers went with it. */
export function lostBeforeCall(ctx: DeviceContext): SparseAttentionError {
  const info = ctx.lost!;
  if (!ctx.owned) return callerDeviceLost(info);
  return new SparseAttentionError(
    'DEVICE_LOST',
    `webgpu: the device was lost (${info.reason}: ${info.message}) and its buffers with it; the next call creates a new device (device() gives it)`,
    { field: 'device' },
  );
}

/** True when the context's device has been lost (the lost promise may settle a moment after a failure). */
export async function isLost(ctx: DeviceContext): Promise<boolean> {
  if (ctx.lost) return true;
  await new Promise((r) => setTimeout(r, 0));
  return ctx.lost !== null;
}

/**
 * Where the backend's devices come from: the caller's device, or one of its own from the given adapter, the given
 * GPU object, navigator.gpu or Node's `webgpu` package, with the adapter's own limits. start() makes a fresh
 * context each time (the kit calls it again after a DEVICE_LOST); a caller's device that was lost makes it fail
 * with DEVICE_LOST.
 */
export class Devices {
  private adapterUsed = false;
  private callerLost: GPUDeviceLostInfo | null = null;

  constructor(private readonly options: DeviceOptions) {}

  start(): Promise<DeviceContext> {
    return keepAlive(async () => {
      if (this.callerLost) throw callerDeviceLost(this.callerLost);
      const ctx = {} as DeviceContext;
      await this.open(ctx);
      return ctx;
    });
  }

  async release(ctx: DeviceContext): Promise<void> {
    ctx.pool.clear();
    if (ctx.owned) ctx.device.destroy();
  }

  /**
   * A context whose device was lost between calls, made usable again before a call: the backend's own device is
   * replaced in place (the kit only drops a device after a call failed with DEVICE_LOST); a caller's fails.
   */
  ready(ctx: DeviceContext): Promise<void> {
    if (!ctx.lost) return ctx.renewing ?? Promise.resolve();
    if (!ctx.owned) return Promise.reject(callerDeviceLost(ctx.lost));
    ctx.renewing ??= keepAlive(() => this.open(ctx)).finally(() => {
      ctx.renewing = null;
    });
    return ctx.renewing;
  }

  /** Fills `ctx` with a device and what lives with it. */
  private async open(ctx: DeviceContext): Promise<void> {
    const o = this.options;
    let device: GPUDevice;
    let adapter: GPUAdapter | null = null;
    let gpu: GPU | undefined = o.gpu;
    if (o.device) device = o.device;
    else {
      const found = await this.findAdapter();
      if (!found.adapter) throw unavailable(found.reason ?? 'no WebGPU adapter');
      adapter = found.adapter;
      gpu = found.gpu;
      const requiredLimits: Record<string, number> = {};
      const al = adapter.limits as unknown as Record<string, number>;
      for (const name of LIMIT_NAMES) if (typeof al[name] === 'number') requiredLimits[name] = al[name]!;
      try {
        device = await adapter.requestDevice({ requiredLimits, label: 'sparse-webgpu' });
      } catch (e) {
        throw new SparseAttentionError('BACKEND_UNAVAILABLE', `webgpu: requestDevice failed: ${(e as Error).message}`, { field: 'backend', cause: e });
      }
    }
    const limits = clampLimits(readLimits(device.limits), o.limits);
    const description = describe(adapter, device);
    Object.assign(ctx, {
      device,
      owned: !o.device,
      limits,
      description,
      software: SOFTWARE.test(description),
      pipelines: new PipelineCache(device, !(o.asyncPipelines ?? !isNode())),
      pool: new BufferPool(device, limits.maxBufferSize),
      lost: null,
      gpu,
      last: null,
      renewing: ctx.renewing ?? null,
    } satisfies DeviceContext);
    device.lost.then((info) => {
      if (device === o.device) this.callerLost = info;
      // A renewed context has moved on to another device.
      if (ctx.device !== device) return;
      ctx.lost = info;
      ctx.pool.clear();
    });
  }

  private async findAdapter(): Promise<Found> {
    const o = this.options;
    if (o.adapter && !this.adapterUsed) {
      this.adapterUsed = true;
      return { adapter: o.adapter };
    }
    let gpu: GPU | undefined = o.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    const fromNode = !gpu;
    let software = false;
    // Why Node's Dawn found nothing, when we know better than "no adapter" (e.g. no Vulkan driver at all).
    let problem: string | null = null;
    const request: GPURequestAdapterOptions = o.powerPreference ? { powerPreference: o.powerPreference } : {};
    let adapter: GPUAdapter | null = null;
    if (gpu) adapter = await gpu.requestAdapter(request);
    else {
      const node = await loadNodeGpu(o, false);
      if (typeof node === 'string') {
        if (!o.software || !node.startsWith(NO_VULKAN_DRIVER)) return { adapter: null, reason: node };
        problem = node;
      } else {
        gpu = node;
        adapter = await gpu.requestAdapter(request);
      }
    }
    if (!adapter && fromNode && o.software) {
      const node = await loadNodeGpu(o, true, SOFTWARE_DAWN_FLAGS);
      software = true;
      if (typeof node !== 'string') {
        gpu = node;
        adapter = await node.requestAdapter(request);
      } else problem = node;
    } else if (adapter && fromNode && !o.dawnFlags && isSoftware(adapter)) {
      // A software adapter found on the first try (e.g. VK_ICD_FILENAMES names SwiftShader): reopen Dawn with
      // the software flags, keeping the first adapter if that fails.
      const node = await loadNodeGpu(o, false, SOFTWARE_DAWN_FLAGS);
      const again = typeof node === 'string' ? null : await node.requestAdapter(request);
      if (again && typeof node !== 'string') {
        gpu = node;
        adapter = again;
      }
    }
    if (!adapter) {
      if (problem) return { adapter: null, reason: problem };
      const where = o.gpu ? 'the given GPU object' : fromNode ? "Node's `webgpu` package" : 'navigator.gpu';
      return { adapter: null, reason: `${where} offers no WebGPU adapter (${softwareAdapterHelp(software)})` };
    }
    return { adapter, gpu };
  }
}
