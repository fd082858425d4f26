import { type Backend, BlockMaskCache, type ResidentResult } from '@sparse/core';
import { type DeviceCode, defineBackend } from '@sparse/core/backend';
import { Planner } from './check.js';
import { type DeviceContext, Devices } from './device.js';
import { keepAlive } from './keep-alive.js';
import { resolveWebGpuOptions, type WebGpuOptions } from './options.js';
import { type GpuTensor, residentEntry, type WebGpuResidentRequest } from './resident.js';
import { runPiece } from './run.js';
import { type DeviceRunInfo, runInfo, type WebGpuRunInfo } from './run-info.js';
import { tolerance } from './tolerance.js';
import { translate } from './translate.js';

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  /**
   * Resident path: GPUBuffers in and out on the backend's device (pass your own with `options.device`, or take
   * this backend's from `device()`). Returns after the work is submitted and validated; the outputs are ready
   * for your next commands on the same queue. Buffers the backend creates for the outputs are yours to destroy.
   */
  attentionResident(request: WebGpuResidentRequest, options?: { signal?: AbortSignal }): Promise<ResidentResult<GpuTensor>>;
  /** The device the backend runs on (created on first use). */
  device(): Promise<GPUDevice>;
  lastRun(): WebGpuRunInfo | null;
}

/**
 * The WebGPU backend: fused block-sparse attention in WGSL on navigator.gpu (browsers) or the `webgpu` package
 * (Node, Dawn). Creates its own device unless given one; see the README for the options.
 */
export function webgpu(options: WebGpuOptions = {}): WebGpuBackend {
  const { shared, device: deviceOptions } = resolveWebGpuOptions(options);
  const devices = new Devices(deviceOptions);
  const planner = new Planner(new BlockMaskCache(shared.maskCacheSize), shared.tiles, deviceOptions.limits);
  // Dawn's Node binding needs a timer while GPU work is pending (keep-alive.ts): start, run and release hold one.
  const code: DeviceCode<DeviceContext, DeviceRunInfo> = {
    name: 'webgpu',
    start: () => devices.start(),
    describe: (ctx) => ctx.description,
    check: (plan, ctx) => planner.check(plan, ctx),
    run: (ctx, request, plan, signal) => keepAlive(() => runPiece(ctx, request, plan, signal, planner, devices)),
    release: (ctx) => keepAlive(() => devices.release(ctx)),
    translate,
    tolerance,
    runInfo,
  };
  const backend = defineBackend(code, shared, (kit) => ({
    attentionResident: residentEntry(kit, planner),
    device: () =>
      kit.call((ctx) =>
        keepAlive(async () => {
          await devices.ready(ctx);
          return ctx.device;
        }),
      ),
  }));
  return backend as WebGpuBackend;
}
