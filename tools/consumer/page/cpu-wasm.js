import { cpuWasm } from '@sparse/cpu-wasm';
import { check } from './check.js';

export async function runCpuWasm() {
  const backend = cpuWasm({ threads: 2 });
  try {
    const result = await check(backend);
    const info = backend.lastRun();
    return { ...result, mode: info.mode, threads: info.threads };
  } finally {
    await backend.dispose();
  }
}
