// A TypeScript app using the public API of core, cpu-wasm and webgpu as installed from npm; type-checked, never run.
import { type AttentionRequest, type Backend, causal, local, type ResidentResult, SparseAttentionError } from '@sparse/core';
import { referenceAttention } from '@sparse/core/reference';
import { type CpuWasmBackend, cpuWasm } from '@sparse/cpu-wasm';
import { type GpuTensor, type WebGpuBackend, webgpu } from '@sparse/webgpu';

const shape = [1, 2, 64, 16];
const data = () => new Float32Array(2 * 64 * 16);
const request: AttentionRequest = { q: { data: data(), shape }, k: { data: data(), shape }, v: { data: data(), shape }, pattern: causal() };

const cpu: CpuWasmBackend = cpuWasm({ threads: 2 });
const gpu: WebGpuBackend = webgpu({ software: true });

export async function run(): Promise<number> {
  let maxError = 0;
  const want = referenceAttention(request);
  for (const backend of [cpu, gpu] satisfies Backend[]) {
    const got = await backend.attention(request);
    for (let i = 0; i < want.out.data.length; i++) maxError = Math.max(maxError, Math.abs(got.out.data[i]! - want.out.data[i]!));
  }
  // The resident GPUBuffer path: WebGPU's types (@webgpu/types) come with @sparse/webgpu.
  const device: GPUDevice = await gpu.device();
  const buffer: GPUBuffer = device.createBuffer({ size: 2 * 64 * 16 * 4, usage: GPUBufferUsage.STORAGE });
  const resident: ResidentResult<GpuTensor> = await gpu.attentionResident({
    q: { buffer, shape },
    k: { buffer, shape },
    v: { buffer, shape },
    pattern: local(4, 4),
  });
  resident.out.buffer.destroy();
  return maxError;
}

export function isSparseError(e: unknown): e is SparseAttentionError {
  return e instanceof SparseAttentionError;
}
