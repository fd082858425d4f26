import { webgpu } from '@sparse/webgpu';
import { check } from './check.js';

export async function runWebgpu() {
  const backend = webgpu();
  try {
    return await check(backend);
  } finally {
    await backend.dispose();
  }
}
