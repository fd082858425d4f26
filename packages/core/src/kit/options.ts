import { fail } from '../errors.js';

/** Tile sizes of the compiled block masks and of the kernels that run over them. */
export interface TileOptions {
  /** Query rows per tile. */
  blockQ?: number;
  /** Keys per tile. */
  blockK?: number;
}

/** The options every backend takes, with the same names, defaults and validation (at construction). */
export interface BackendOptions {
  /** Tile sizes; each backend has its defaults and its limits (its README lists them). */
  tiles?: TileOptions;
  /** Compiled block masks kept for reuse, least recently used dropped first (default 32; 0 keeps none). */
  maskCacheSize?: number;
  /**
   * Run a call whose heads are all `dilated` (or dilated `neighborhood`) with one dilation d as calls over the d
   * residue groups with the undilated pattern (default true; docs/design.md, "Re-ordering").
   */
  partitionDilation?: boolean;
}

export interface ResolvedOptions {
  tiles: TileOptions;
  maskCacheSize: number;
  partitionDilation: boolean;
}

/** The tile sizes a backend accepts: inclusive ranges (the default range is [1, 4096]). */
export interface TileLimits {
  blockQ?: readonly [number, number];
  blockK?: readonly [number, number];
}

const BASE_KEYS = ['tiles', 'maskCacheSize', 'partitionDilation'];

function checkTile(value: unknown, field: string, [lo, hi]: readonly [number, number]): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi))
    fail('INVALID_ARGUMENT', field, `must be an integer in [${lo}, ${hi}]`, value);
  return value;
}

/**
 * Validates the shared options and rejects unknown keys (a misspelt option is an error, not a silent default).
 * `own` lists the backend's own option names; `limits` its tile ranges. Throws INVALID_ARGUMENT naming the field.
 */
export function resolveOptions(options: unknown, own: readonly string[] = [], limits: TileLimits = {}): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('INVALID_ARGUMENT', 'options', 'must be an object', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (BASE_KEYS.includes(key) || own.includes(key)) continue;
    const hint = key === 'blockQ' || key === 'blockK' ? ` (tile sizes go in tiles: { ${key} })` : '';
    fail('INVALID_ARGUMENT', key, `is not an option of this backend${hint}; its options are ${[...BASE_KEYS, ...own].join(', ')}`, o[key]);
  }
  const tiles = o.tiles ?? {};
  if (typeof tiles !== 'object' || tiles === null || Array.isArray(tiles)) fail('INVALID_ARGUMENT', 'tiles', 'must be an object { blockQ?, blockK? }', tiles);
  const t = tiles as Record<string, unknown>;
  for (const key of Object.keys(t))
    if (key !== 'blockQ' && key !== 'blockK') fail('INVALID_ARGUMENT', `tiles.${key}`, 'is not a tile size (blockQ or blockK)', t[key]);
  const resolvedTiles: TileOptions = {};
  const blockQ = checkTile(t.blockQ, 'tiles.blockQ', limits.blockQ ?? [1, 4096]);
  const blockK = checkTile(t.blockK, 'tiles.blockK', limits.blockK ?? [1, 4096]);
  if (blockQ !== undefined) resolvedTiles.blockQ = blockQ;
  if (blockK !== undefined) resolvedTiles.blockK = blockK;
  const maskCacheSize = o.maskCacheSize ?? 32;
  if (!(typeof maskCacheSize === 'number' && Number.isInteger(maskCacheSize) && maskCacheSize >= 0 && maskCacheSize <= 65536))
    fail('INVALID_ARGUMENT', 'maskCacheSize', 'must be an integer in [0, 65536]', maskCacheSize);
  const partitionDilation = o.partitionDilation ?? true;
  if (typeof partitionDilation !== 'boolean') fail('INVALID_ARGUMENT', 'partitionDilation', 'must be a boolean', partitionDilation);
  return { tiles: resolvedTiles, maskCacheSize, partitionDilation };
}
