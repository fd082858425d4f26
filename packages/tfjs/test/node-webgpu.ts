import { existsSync } from 'node:fs';

/** Chromium's SwiftShader Vulkan driver (Debian's `chromium` package): a software adapter where no GPU is. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Test set-up for the tf.js webgpu backend in Node: WebGPU from the `webgpu` package (Dawn) installed as
 * navigator.gpu, falling back to SwiftShader when Dawn finds no adapter, then the backend imported (it
 * registers itself only where navigator.gpu exists). Returns the adapter in words, or why there is none.
 */
export async function setUpNodeWebgpu(): Promise<{ adapter: string } | { unavailable: string }> {
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    return { unavailable: `the webgpu package does not load here: ${(e as Error).message.split('\n')[0]}` };
  }
  let gpu = mod.create([]);
  let adapter = await gpu.requestAdapter();
  if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = mod.create([]);
    adapter = await gpu.requestAdapter();
  }
  if (!adapter) return { unavailable: `no WebGPU adapter (no GPU driver, and no SwiftShader at ${SWIFTSHADER_ICD})` };
  Object.assign(globalThis, mod.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  const info = adapter.info;
  return { adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() };
}
