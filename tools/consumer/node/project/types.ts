// Compiled with `tsc --noEmit` under moduleResolution nodenext and bundler, "types": ["node"]: every entry point
// resolves to its declarations and the types fit together across packages.

import { listCases } from '@sparse/conformance';
import { type AttentionRequest, type AttentionResult, type Backend, local, type Pattern, reference, selectBackend } from '@sparse/core';
import { cpuWasm } from '@sparse/cpu-wasm';
import { cudaNative } from '@sparse/cuda-native';
import { webgpu } from '@sparse/webgpu';

const pattern: Pattern = local(4, 0);
const backends: Backend[] = [cpuWasm({ threads: 2 }), webgpu(), cudaNative({ precision: 'bfloat16' }), reference()];
const request: AttentionRequest = {
  q: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
  k: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
  v: { data: new Float32Array(8), shape: [1, 1, 2, 4] },
  pattern,
};

export async function run(): Promise<number> {
  const { backend } = await selectBackend(backends);
  const result: AttentionResult = await backend.attention(request);
  const cases: number = listCases({ filter: 'local' }).length;
  return result.out.data[0]! + cases;
}
