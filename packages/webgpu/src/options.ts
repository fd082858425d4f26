import type { BackendOptions } from '@sparse/core';
import { fail, type ResolvedOptions, resolveOptions, type TileLimits } from '@sparse/core/backend';
import { type DeviceLimits, LIMIT_NAMES } from './limits.js';
import type { NodeGpuOptions } from './node-gpu.js';
import { MAX_BLOCK_K } from './wgsl/config.js';

/** Where the backend's device comes from, and the limits it plans with. */
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

/**
 * The options of webgpu(): the shared ones (tiles: blockQ query rows per workgroup, 1 to 64, default 16; blockK
 * keys per block, 1 to 32, default the largest whose tiles fit workgroup memory) and the device's.
 */
export interface WebGpuOptions extends BackendOptions, DeviceOptions {}

export const OWN_KEYS = ['device', 'adapter', 'gpu', 'powerPreference', 'limits', 'asyncPipelines', 'dawnFlags', 'software'] as const;

/** A row of a bit tile is one u32 word, so a key block holds at most 32 keys. */
export const TILE_LIMITS: TileLimits = { blockQ: [1, 64], blockK: [1, MAX_BLOCK_K] };

const hasMethod = (value: unknown, name: string) =>
  typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';

function checkLimits(limits: unknown): void {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) fail('INVALID_ARGUMENT', 'limits', 'must be an object of device limits', limits);
  for (const [name, value] of Object.entries(limits)) {
    if (!(LIMIT_NAMES as string[]).includes(name))
      fail('INVALID_ARGUMENT', `limits.${name}`, `is not a limit the backend plans with (${LIMIT_NAMES.join(', ')})`, value);
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) fail('INVALID_ARGUMENT', `limits.${name}`, 'must be a positive number', value);
  }
}

/** Validates every option at construction (INVALID_ARGUMENT naming the field); nothing is checked again per call. */
export function resolveWebGpuOptions(options: WebGpuOptions | undefined): { shared: ResolvedOptions; device: DeviceOptions } {
  const shared = resolveOptions(options, OWN_KEYS, TILE_LIMITS);
  const o: DeviceOptions = { ...options };
  if (o.device !== undefined && !hasMethod(o.device, 'createBuffer')) fail('INVALID_ARGUMENT', 'device', 'must be a GPUDevice', o.device);
  if (o.adapter !== undefined && !hasMethod(o.adapter, 'requestDevice')) fail('INVALID_ARGUMENT', 'adapter', 'must be a GPUAdapter', o.adapter);
  if (o.gpu !== undefined && !hasMethod(o.gpu, 'requestAdapter'))
    fail('INVALID_ARGUMENT', 'gpu', 'must be a GPU object (navigator.gpu, or create() of `webgpu`)', o.gpu);
  if (o.powerPreference !== undefined && o.powerPreference !== 'low-power' && o.powerPreference !== 'high-performance')
    fail('INVALID_ARGUMENT', 'powerPreference', 'must be "low-power" or "high-performance"', o.powerPreference);
  if (o.limits !== undefined) checkLimits(o.limits);
  if (o.asyncPipelines !== undefined && typeof o.asyncPipelines !== 'boolean')
    fail('INVALID_ARGUMENT', 'asyncPipelines', 'must be a boolean', o.asyncPipelines);
  if (o.dawnFlags !== undefined && !(Array.isArray(o.dawnFlags) && o.dawnFlags.every((f) => typeof f === 'string')))
    fail('INVALID_ARGUMENT', 'dawnFlags', 'must be an array of strings', o.dawnFlags);
  if (o.software !== undefined && typeof o.software !== 'boolean' && !(typeof o.software === 'string' && o.software.length > 0))
    fail('INVALID_ARGUMENT', 'software', 'must be a boolean or the path of a Vulkan ICD JSON file', o.software);
  return { shared, device: o };
}
