import { SparseAttentionError } from '@sparse/core';
import { clampLimits, type DeviceLimits, LIMIT_NAMES, readLimits } from './limits.js';
import { isNode, loadNodeGpu, NO_VULKAN_DRIVER, type NodeGpuOptions, SOFTWARE_DAWN_FLAGS, softwareAdapterHelp } from './node-gpu.js';
import { PipelineCache } from './pipelines.js';
import { BufferPool } from './pool.js';

export interface DeviceOptions extends NodeGpuOptions {
  /** A device you own: the backend runs on it, never destroys it, and reports DEVICE_LOST if it is lost. */
  device?: GPUDevice;
  /** An adapter to request the backend's own device from. */
  adapter?: GPUAdapter;
  /** The GPU object to use instead of navigator.gpu (e.g. `create([])` of the `webgpu` package). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Lower the limits the backend plans with (tests, or sharing a device); never raises them. */
  limits?: Partial<DeviceLimits>;
  /**
   * Compile pipelines with createComputePipelineAsync. Default: true in browsers; false in Node, where Dawn's
   * binding spins the main thread polling for the compile to finish (twice the CPU time of a blocking compile).
   */
  asyncPipelines?: boolean;
}

/** Everything that lives and dies with one device. */
export interface DeviceContext {
  device: GPUDevice;
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

/**
 * Owns the device the backend runs on: finds a GPU (the given one, navigator.gpu, or Node's `webgpu` package),
 * an adapter and a device with the adapter's own limits; watches `device.lost`. An owned device that was lost
 * is replaced by the next call; a caller's device that was lost makes every call fail with DEVICE_LOST.
 */
export class DeviceHolder {
  private current: DeviceContext | null = null;
  private pending: Promise<DeviceContext> | null = null;
  private adapterUsed = false;
  private disposed = false;

  constructor(private readonly options: DeviceOptions) {}

  /** Once dispose() began: the error every call gets (its message is also what probe() and supports() say). */
  disposedError(): SparseAttentionError | null {
    return this.disposed ? unavailable('the backend was disposed; create a new backend to run again') : null;
  }

  /** The current device's context when it is ready and not lost (a call can then upload synchronously). */
  live(): DeviceContext | null {
    const c = this.current;
    return !this.disposed && c && !c.lost ? c : null;
  }

  async get(): Promise<DeviceContext> {
    const gone = this.disposedError();
    if (gone) throw gone;
    const c = this.current;
    if (c && !c.lost) return c;
    if (c?.lost && !c.owned) {
      throw new SparseAttentionError(
        'DEVICE_LOST',
        `webgpu: the GPUDevice passed in options.device was lost (${c.lost.reason}: ${c.lost.message}); create a new device and a new backend`,
        { field: 'device' },
      );
    }
    if (c?.lost) this.current = null;
    if (!this.pending) {
      this.pending = this.create().finally(() => {
        this.pending = null;
      });
    }
    return this.pending;
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

  private async create(): Promise<DeviceContext> {
    const o = this.options;
    let device: GPUDevice;
    let adapter: GPUAdapter | null = null;
    let gpu: GPU | undefined = o.gpu;
    const owned = !o.device;
    if (o.device) {
      device = o.device;
    } else {
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
    const ctx: DeviceContext = {
      device,
      owned,
      limits,
      description,
      software: SOFTWARE.test(description),
      pipelines: new PipelineCache(device, !(o.asyncPipelines ?? !isNode())),
      pool: new BufferPool(device, limits.maxBufferSize),
      lost: null,
      gpu,
    };
    device.lost.then((info) => {
      ctx.lost = info;
      ctx.pool.clear();
    });
    this.current = ctx;
    return ctx;
  }

  /** True when the context's device has been lost (the lost promise may settle a moment after a failure). */
  async isLost(ctx: DeviceContext): Promise<boolean> {
    if (ctx.lost) return true;
    await new Promise((r) => setTimeout(r, 0));
    return ctx.lost !== null;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const c = this.current ?? (this.pending ? await this.pending.catch(() => null) : null);
    this.current = null;
    if (!c) return;
    c.pool.clear();
    if (c.owned) c.device.destroy();
  }
}
