/**
 * WebGPU in Node through the `webgpu` package (Dawn), loaded lazily and only in Node, so browser bundles never see
 * it. Nothing here runs at import time and no globals are installed.
 */
import { missingVulkanDriver } from './vulkan-drivers.js';
export interface NodeGpuOptions {
  /** Flags for Dawn's `create()` in Node (e.g. `['backend=vulkan']`). */
  dawnFlags?: string[];
  /**
   * Node only: when no adapter is found, retry with a software Vulkan adapter: Chromium's SwiftShader ICD
   * (`/usr/lib/chromium/vk_swiftshader_icd.json`, Debian's `chromium` package). Sets VK_ICD_FILENAMES for this
   * process when it is unset and the ICD file exists. A string is the path of an ICD JSON to use instead.
   */
  software?: boolean | string;
}

/** How the reason starts when Dawn was not started because Vulkan has no driver here. */
export const NO_VULKAN_DRIVER = "Node's `webgpu` package (Dawn) has no Vulkan driver to open";

/** Where Debian/Ubuntu packages put Chromium's SwiftShader Vulkan ICD. */
export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
];

type NodeProcess = { versions?: { node?: string }; env: Record<string, string | undefined> };

function nodeProcess(): NodeProcess | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : null;
}

export function isNode(): boolean {
  return nodeProcess() !== null;
}

/** A dynamic import that bundlers leave alone (the specifier is not a literal). */
function importRuntime(specifier: string): Promise<Record<string, unknown>> {
  return import(/* @vite-ignore */ specifier) as Promise<Record<string, unknown>>;
}

export function softwareAdapterHelp(triedSoftware: boolean): string {
  const base =
    'on a machine without a GPU driver, get a software adapter: on Debian/Ubuntu `apt-get install chromium libvulkan1` and set ' +
    'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (or pass { software: true } to webgpu()); in Chrome, ' +
    'enable WebGPU (chrome://gpu) or start it with --enable-unsafe-webgpu --enable-unsafe-swiftshader';
  return triedSoftware ? `SwiftShader was tried too; ${base}` : base;
}

/** Points the Vulkan loader at SwiftShader when allowed and possible; returns whether the env now names an ICD. */
async function useSoftwareIcd(software: boolean | string): Promise<boolean> {
  const proc = nodeProcess();
  if (!proc) return false;
  if (proc.env.VK_ICD_FILENAMES) return true;
  const fs = (await importRuntime('node:fs')) as { existsSync(p: string): boolean };
  const candidates = typeof software === 'string' ? [software] : SWIFTSHADER_ICDS;
  const icd = candidates.find((p) => fs.existsSync(p));
  if (!icd) return false;
  proc.env.VK_ICD_FILENAMES = icd;
  return true;
}

/**
 * Dawn toggles used on software adapters when the caller passed no `dawnFlags`: skip the zero-initialisation of
 * workgroup memory (the kernels write every workgroup variable before reading it), which on SwiftShader cuts
 * pipeline compile times from seconds to about 0.1 s.
 */
export const SOFTWARE_DAWN_FLAGS: readonly string[] = ['enable-dawn-features=disable_workgroup_init'];

/**
 * Dawn instances made so far, by Vulkan ICD and flags. Dawn's Node binding tears an instance down when its GPU
 * object is garbage-collected, and aborts the process if that happens while it still has events to process (a
 * device being lost, an adapter request that found nothing). So each instance is made once and kept for the life
 * of the process; this does not keep Node from exiting.
 */
const instances = new Map<string, GPU>();

/**
 * The GPU object of Node's `webgpu` package, or a sentence saying why there is none. With `software`, first
 * points the Vulkan loader at SwiftShader (a new Dawn instance re-reads VK_ICD_FILENAMES).
 */
export async function loadNodeGpu(options: NodeGpuOptions, software: boolean, flags?: readonly string[]): Promise<GPU | string> {
  if (!isNode())
    return 'this browser has no navigator.gpu: use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) over https or localhost, or enable it (chrome://flags/#enable-unsafe-webgpu)';
  if (software && !(await useSoftwareIcd(options.software ?? true))) return 'no software Vulkan ICD found (install Debian/Ubuntu package `chromium`)';
  let mod: Record<string, unknown>;
  try {
    mod = await importRuntime('webgpu');
  } catch (e) {
    return `Node has no WebGPU: install the \`webgpu\` package (npm install webgpu), which ships Dawn (${(e as Error).message.split('\n')[0]})`;
  }
  const create = mod.create as ((flags: string[]) => GPU) | undefined;
  if (typeof create !== 'function') return 'the `webgpu` package has no create() export (need webgpu >= 0.2)';
  const args = [...(options.dawnFlags ?? flags ?? [])];
  const fs = (await importRuntime('node:fs')) as unknown as Parameters<typeof missingVulkanDriver>[0];
  const proc = nodeProcess()!;
  const missing = missingVulkanDriver(fs, proc.env, (proc as { platform?: string }).platform ?? '', args);
  if (missing) return `${NO_VULKAN_DRIVER}: ${missing} (${softwareAdapterHelp(software)})`;
  const key = `${nodeProcess()?.env.VK_ICD_FILENAMES ?? ''}|${args.join(' ')}`;
  const known = instances.get(key);
  if (known) return known;
  try {
    const gpu = create(args);
    instances.set(key, gpu);
    return gpu;
  } catch (e) {
    return `the \`webgpu\` package failed to start Dawn: ${(e as Error).message}`;
  }
}
