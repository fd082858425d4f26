import type { TileSizes } from '@sparse/core';
import { type BackendOptions, fail, type ResolvedOptions, resolveOptions, type TileOptions } from '@sparse/core/backend';

export interface CpuWasmOptions extends BackendOptions {
  /** Tile sizes: blockQ a multiple of 4 in [4, 512], blockK a multiple of 8 in [8, 512] (default 32 × 32). */
  tiles?: TileOptions;
  /**
   * Worker threads sharing one WebAssembly.Memory. Default: os.availableParallelism() in Node,
   * navigator.hardwareConcurrency in browsers. Ignored (1) in the single-threaded fallback.
   */
  threads?: number;
  /**
   * Run on the calling thread over a plain memory, without workers: what a page without cross-origin isolation
   * gets anyway (SharedArrayBuffer unavailable). Work yields to the event loop every ~20 ms.
   */
  inline?: boolean;
  /**
   * Calls that copy more than this many bytes into wasm memory run as pieces over (batch entry, kv-head) groups,
   * so the wasm memory holds one group (default 192 MiB). Same results; bounds the memory a large call doubles.
   */
  splitBytes?: number;
  /**
   * Which build of the kernel runs: 'relaxed' (relaxed SIMD: the multiply-adds of the score and P·V tiles and the
   * softmax are f32x4.relaxed_madd, fused where the CPU has FMA), 'simd128' (multiply then add), or 'auto' (default:
   * 'relaxed' where the engine runs relaxed SIMD, else 'simd128'). A forced 'relaxed' on an engine without relaxed
   * SIMD leaves the backend unavailable (BACKEND_UNAVAILABLE, saying why).
   */
  kernel?: KernelOption;
}

/** Values of the `kernel` option. */
export const KERNEL_OPTIONS = ['auto', 'relaxed', 'simd128'] as const;
export type KernelOption = (typeof KERNEL_OPTIONS)[number];

/** The options of cpuWasm() besides the shared ones (tiles, maskCacheSize, partitionDilation). */
export const OWN_KEYS = ['threads', 'inline', 'splitBytes', 'kernel'] as const;
export const TILE_LIMITS = { blockQ: [4, 512], blockK: [8, 512] } as const;
/** The kernel packs query rows in groups of four and transposes keys in chunks of eight. */
const TILE_MULTIPLES = { blockQ: 4, blockK: 8 } as const;
const DEFAULT_TILE = 32;
export const MAX_THREADS = 256;
/** Default of `splitBytes`. */
export const SPLIT_BYTES = 192 * 2 ** 20;

/** Every option of a cpuWasm() backend, validated. */
export interface CpuWasmSettings {
  shared: ResolvedOptions;
  tiles: TileSizes;
  /** undefined: the platform's default. */
  threads: number | undefined;
  inline: boolean;
  splitBytes: number;
  kernel: KernelOption;
}

/** Validates the options at construction: each bad one is an INVALID_ARGUMENT naming its field. */
export function cpuWasmSettings(options: unknown): CpuWasmSettings {
  const shared = resolveOptions(options, OWN_KEYS, TILE_LIMITS);
  const o = (options ?? {}) as CpuWasmOptions;
  const tile = (key: 'blockQ' | 'blockK') => {
    const value = shared.tiles[key] ?? DEFAULT_TILE;
    if (value % TILE_MULTIPLES[key] !== 0) fail('INVALID_ARGUMENT', `tiles.${key}`, `must be a multiple of ${TILE_MULTIPLES[key]}`, value);
    return value;
  };
  const tiles = { blockQ: tile('blockQ'), blockK: tile('blockK') };
  const { threads, inline = false, splitBytes = SPLIT_BYTES, kernel = 'auto' } = o;
  if (threads !== undefined && !(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS))
    fail('INVALID_ARGUMENT', 'threads', `must be an integer in [1, ${MAX_THREADS}]`, threads);
  if (typeof inline !== 'boolean') fail('INVALID_ARGUMENT', 'inline', 'must be a boolean', inline);
  if (!(typeof splitBytes === 'number' && splitBytes > 0)) fail('INVALID_ARGUMENT', 'splitBytes', 'must be a positive number of bytes', splitBytes);
  if (!KERNEL_OPTIONS.includes(kernel)) fail('INVALID_ARGUMENT', 'kernel', `must be one of ${KERNEL_OPTIONS.map((k) => `'${k}'`).join(', ')}`, kernel);
  return { shared, tiles, threads, inline, splitBytes, kernel };
}
