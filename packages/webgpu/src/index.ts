/// <reference types="@webgpu/types" preserve="true" />
export { type RunInfo, type WebGpuBackend, type WebGpuOptions, webgpu } from './backend.js';
export type { DeviceOptions } from './device.js';
export { DEFAULT_LIMITS, type DeviceLimits, type TileRequest } from './limits.js';
export { type NodeGpuOptions, SOFTWARE_DAWN_FLAGS, SWIFTSHADER_ICDS } from './node-gpu.js';
export type { BufferAttentionRequest, BufferAttentionResult, GpuTensor } from './resident.js';
