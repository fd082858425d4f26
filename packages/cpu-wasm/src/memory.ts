import { SparseAttentionError } from '@sparse/core';
import { formatBytes } from './layout.js';

export const PAGE = 65536;
/** Maximum sizes tried for a new memory, in pages: 4 GiB first; a runtime that cannot reserve it gets less. */
const MAXIMA = [65536, 32768, 16384, 8192, 4096];

export interface KernelMemory {
  memory: WebAssembly.Memory;
  /** The most bytes this memory can grow to. */
  maxBytes: number;
}

/**
 * A memory for the kernel (which declares 2 initial pages and at most 65536). A shared memory reserves its maximum
 * up front, which a 32-bit or memory-constrained browser may refuse: smaller maxima are tried, and calls that
 * need more than the chosen maximum are refused with RESOURCE_LIMIT.
 */
export function createKernelMemory(shared: boolean): KernelMemory {
  let last: unknown;
  for (const maximum of MAXIMA) {
    try {
      return { memory: new WebAssembly.Memory({ initial: 2, maximum, shared }), maxBytes: maximum * PAGE };
    } catch (e) {
      last = e;
    }
  }
  throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cpu-wasm: cannot create a WebAssembly.Memory (${(last as Error)?.message})`, { cause: last });
}

/** Grows the memory to at least `bytes`; false when it was large enough. Views on it must be taken afterwards. */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return false;
  const pages = Math.ceil((bytes - have) / PAGE);
  try {
    memory.grow(pages);
  } catch (e) {
    throw new SparseAttentionError(
      'RESOURCE_LIMIT',
      `request: cpu-wasm could not grow its WebAssembly memory to ${bytes} bytes (${formatBytes(bytes)}): ${(e as Error).message}`,
      { field: 'request', cause: e },
    );
  }
  return true;
}
