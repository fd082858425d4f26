/// <reference types="@webgpu/types" preserve="true" />
export { type WebGpuBackend, webgpu } from './backend.js';
export { DEFAULT_LIMITS, type DeviceLimits } from './limits.js';
export { type NodeGpuOptions, SOFTWARE_DAWN_FLAGS, SWIFTSHADER_ICDS } from './node-gpu.js';
export type { DeviceOptions, WebGpuOptions } from './options.js';
export type { GpuTensor, WebGpuResidentRequest } from './resident.js';
export type { WebGpuRunInfo } from './run-info.js';
