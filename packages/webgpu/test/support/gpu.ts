import { afterAll } from 'vitest';
import { type DeviceLimits, type WebGpuBackend, type WebGpuOptions, webgpu } from '../../src/index.js';

/**
 * The options every GPU test uses: a real adapter when there is one, else Chromium's SwiftShader (software: true
 * sets VK_ICD_FILENAMES for this process when it is unset and /usr/lib/chromium/vk_swiftshader_icd.json exists).
 */
export const TEST_OPTIONS: WebGpuOptions = { software: true };

export interface GpuProbe {
  available: boolean;
  reason?: string;
  device?: string;
}

let cached: Promise<GpuProbe> | null = null;

/**
 * Probes once per test file. In CI (CI=true) a missing adapter fails the file; elsewhere the GPU suites are
 * skipped with a message saying how to get one.
 */
export function probeGpu(): Promise<GpuProbe> {
  cached ??= (async () => {
    const b = webgpu(TEST_OPTIONS);
    const p = await b.probe();
    await b.dispose();
    if (!p.available) {
      if (process.env.CI === 'true') throw new Error(`@sparse/webgpu: CI=true requires a WebGPU adapter (run tools/setup-system.sh). ${p.reason ?? ''}`);
      console.warn(`@sparse/webgpu: no WebGPU adapter, GPU tests skipped. ${p.reason ?? ''}`);
    }
    return p;
  })();
  return cached;
}

/** Makes backends on TEST_OPTIONS with these device limits; every one is disposed after the calling suite. */
export function limitedBackends(): (limits: Partial<DeviceLimits>) => WebGpuBackend {
  const backends: WebGpuBackend[] = [];
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.dispose()));
  });
  return (limits) => {
    const b = webgpu({ ...TEST_OPTIONS, limits });
    backends.push(b);
    return b;
  };
}
