// Access to the locally built addon for the host-side tests. When the build was skipped because this machine
// has no CUDA toolkit, the native tests skip with that reason; when it was built, the binary must load.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeBinding } from '../src/binding.js';
import { LOCAL_BINARY, PACKAGE_DIR } from '../src/loader.js';

interface Status {
  built: boolean;
  reason?: string;
}

function readStatus(): Status | null {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_DIR, 'build', 'native-status.json'), 'utf8')) as Status;
  } catch {
    return null;
  }
}

export const status = readStatus();
/** Why the native tests cannot run here, or null when they must. */
export const skipReason: string | null =
  status && !status.built && /nvcc|CUDA compiler|libcudart_static|C\+\+ compiler/.test(status.reason ?? '') ? `addon not built: ${status.reason}` : null;

export function loadAddon(): NativeBinding {
  if (!existsSync(LOCAL_BINARY)) throw new Error(`${LOCAL_BINARY} is missing: run pnpm --filter @sparse/cuda-native build (status: ${JSON.stringify(status)})`);
  return createRequire(import.meta.url)(LOCAL_BINARY) as NativeBinding;
}
