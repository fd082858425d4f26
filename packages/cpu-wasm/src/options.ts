import { SparseAttentionError } from '@sparse/core';
import { show } from '@sparse/core/backend';

export interface CpuWasmOptions {
  /**
   * Worker threads sharing one WebAssembly.Memory. Default: os.availableParallelism() in Node,
   * navigator.hardwareConcurrency in browsers. Ignored (1) in the single-threaded fallback.
   */
  threads?: number;
  /** Query rows per tile, a multiple of 4 (default 32). */
  blockQ?: number;
  /** Keys per tile, a multiple of 8 (default 32). */
  blockK?: number;
  /**
   * Run on the calling thread over a plain memory, without workers: what a page without cross-origin isolation
   * gets anyway (SharedArrayBuffer unavailable). Work yields to the event loop every ~20 ms.
   */
  inline?: boolean;
  /** Compiled block masks kept (LRU, default 32). */
  maskCacheSize?: number;
  /**
   * Calls that copy more than this many bytes into wasm memory run as sub-calls over (batch, kv-head) groups, so
   * the wasm arena holds one group (default 192 MiB). Same results; bounds the memory a large call doubles.
   */
  splitBytes?: number;
  /**
   * Run a call whose heads are all `dilated` (or dilated `neighborhood`) with one dilation d as d calls on the
   * residue groups with the undilated pattern, NATTEN's way (default true): a dilated band fills 1/d of every
   * tile, the undilated bands are dense. Same results up to float32 rounding (keys are summed in another order).
   */
  partitionDilation?: boolean;
}

export interface ResolvedOptions {
  threads: number | undefined;
  blockQ: number;
  blockK: number;
  inline: boolean;
  maskCacheSize: number;
  partitionDilation: boolean;
}

export const MAX_THREADS = 256;

function int(value: unknown, field: string, lo: number, hi: number, extra?: (n: number) => string | null): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi)
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be an integer in [${lo}, ${hi}] (got ${show(value)})`, { field });
  const why = extra?.(value);
  if (why) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: ${why} (got ${show(value)})`, { field });
  return value;
}

export function resolveOptions(options: CpuWasmOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new SparseAttentionError('INVALID_ARGUMENT', `options: must be an object (got ${show(options)})`, { field: 'options' });
  const inline = options.inline ?? false;
  if (typeof inline !== 'boolean')
    throw new SparseAttentionError('INVALID_ARGUMENT', `options.inline: must be a boolean (got ${show(inline)})`, { field: 'options.inline' });
  const partitionDilation = options.partitionDilation ?? true;
  if (typeof partitionDilation !== 'boolean')
    throw new SparseAttentionError('INVALID_ARGUMENT', `options.partitionDilation: must be a boolean (got ${show(partitionDilation)})`, {
      field: 'options.partitionDilation',
    });
  return {
    partitionDilation,
    threads: options.threads === undefined ? undefined : int(options.threads, 'options.threads', 1, MAX_THREADS),
    blockQ: options.blockQ === undefined ? 32 : int(options.blockQ, 'options.blockQ', 4, 512, (n) => (n % 4 === 0 ? null : 'must be a multiple of 4')),
    blockK: options.blockK === undefined ? 32 : int(options.blockK, 'options.blockK', 8, 512, (n) => (n % 8 === 0 ? null : 'must be a multiple of 8')),
    inline,
    maskCacheSize: options.maskCacheSize === undefined ? 32 : int(options.maskCacheSize, 'options.maskCacheSize', 1, 4096),
  };
}
