import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ROOT, run } from './workspace.js';

const PKG = join(ROOT, 'packages', 'cuda-native');
export const ADDON = join(PKG, 'build', 'Release', 'sparse_cuda.node');

function findCudaHome(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'nvcc'))) return null;
  for (const root of [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']) if (root && existsSync(join(root, 'bin', 'nvcc'))) return root;
  throw new Error('nvcc was not found on PATH, $CUDA_HOME, $CUDA_PATH or /usr/local/cuda');
}

export type AddonBuild = { binary: string } | { skip: string } | { error: string };

/**
 * Builds the CUDA addon with the package's own build script (incremental: a no-op when the build of this checkout
 * is up to date) and returns its path, or the reason it cannot be built here. Without nvcc that is a skip outside
 * CI and an error in CI, where the toolkit is part of the set-up; SPARSE_CUDA_SKIP_NATIVE=1 skips it on request.
 */
export function buildAddon(): { binary: string } | { skip: string } {
  if (process.env.SPARSE_CUDA_SKIP_NATIVE === '1') return { skip: 'SPARSE_CUDA_SKIP_NATIVE=1 is set' };
  let cudaHome: string | null;
  try {
    cudaHome = findCudaHome();
  } catch (e) {
    const why = `the CUDA addon cannot be built: ${(e as Error).message}`;
    if (process.env.CI === 'true') throw new Error(why);
    return { skip: why };
  }
  const env = { ...process.env, ...(cudaHome ? { CUDA_HOME: cudaHome } : {}) };
  run(process.execPath, [join(PKG, 'scripts', 'build-native.mjs')], { cwd: PKG, env, timeout: 480_000 });
  const status = JSON.parse(readFileSync(join(PKG, 'build', 'native-status.json'), 'utf8')) as { built?: boolean; reason?: string };
  if (!status.built || !existsSync(ADDON)) throw new Error(`the CUDA addon was not built: ${status.reason ?? 'no binary'}`);
  return { binary: ADDON };
}
