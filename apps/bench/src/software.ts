/**
 * `--webgpu-software`: the webgpu target is created with `{ software: true }`, so on a machine without a GPU it runs
 * on a software adapter (Chromium's SwiftShader, a CPU rasteriser). Such figures say how the WGSL runs on the CPU
 * cores, nothing about a GPU; every one of them carries the notice below.
 */

/** Adapter descriptions of software adapters (the same families `@sparse/webgpu` treats as software). */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render|software|fallback adapter/i;

export function isSoftwareAdapter(device: string | undefined): boolean {
  return device !== undefined && SOFTWARE_ADAPTER.test(device);
}

/** What every figure of a webgpu target created with `{ software: true }` is marked with, given the adapter it got. */
export function softwareNotice(device: string | undefined): { softwareAdapter: boolean; notice: string } {
  if (isSoftwareAdapter(device)) {
    const name = /swiftshader/i.test(device!) ? 'SwiftShader' : device!;
    return { softwareAdapter: true, notice: `software adapter (${name}) — not a GPU figure` };
  }
  return {
    softwareAdapter: false,
    notice: `--webgpu-software: a hardware adapter was found (${device ?? 'unknown'}), the software fallback was not used`,
  };
}

/** Before the adapter is known (a target that cannot start): what the label promises. */
export const SOFTWARE_PENDING = 'created with { software: true } (--webgpu-software): may run on a software adapter (SwiftShader), not a GPU';
