import { type AttentionPlan, type HostTensor, type Layout, SparseAttentionError } from '@sparse/core';
import type { HeadTable } from '@sparse/core/backend';
import type { CpuWasmDevice } from './device.js';
import { dv8 } from './layout.js';
import { strides } from './write.js';

/** What `backend.kvCache()` takes. */
export interface KvCacheOptions {
  /** Batch entries (default 1). */
  batch?: number;
  /** Kv heads (Hkv). */
  headsKv: number;
  /** Head dim of k (D). */
  headDim: number;
  /** Head dim of v (default headDim). */
  headDimV?: number;
  /**
   * Positions the cache holds. Without `window`, the most it can ever hold (an append past it is refused); with
   * `window`, the last `capacity` positions are kept (a ring: older ones are evicted), and `capacity` must cover the
   * window plus the tokens appended before each attention call (e.g. window + 16).
   */
  capacity: number;
  /** A sliding-window model's window (keys a query may look back): makes the cache a ring of `capacity` positions. */
  window?: number;
  /** Layout of the k and v tensors given to append() (default 'bhsd': [B, Hkv, n, D]; 'bshd': [B, n, Hkv, D]). */
  layout?: Layout;
}

/** A cache's sizes, validated. */
export interface KvCacheConfig {
  batch: number;
  headsKv: number;
  headDim: number;
  headDimV: number;
  capacity: number;
  window: number | undefined;
  layout: Layout;
  /** Positions stored: capacity rounded up to a multiple of the key tile (blockK). */
  slots: number;
  /** Key blocks stored per (batch entry, kv head): slots / blockK. */
  blocks: number;
  blockK: number;
}

/** Where a cache's parts lie in the memory (byte addresses inside one resident allocation). */
export interface KvCacheRegions {
  /** Kᵀ tiles [B][Hkv][blocks][blockK / 8][D][8], as the prep phase writes them for a call. */
  kt: number;
  /**
   * V tiles [B][Hkv][blocks][Dv8 / 8][blockK][8] (Dv8: Dv rounded up to 8, padded with zeros), the layout the kernel's
   * P·V pass streams (C_V_TILED); a non-finite row is stored as zeros and flagged.
   */
  v: number;
  /** Per stored key: -1 where its v row held a non-finite value, else 0, [B][Hkv][slots] (i32). */
  vbad: number;
  /** Per stored key block: whether any of its keys is flagged, [B][Hkv][blocks] (i32). */
  vbadBlock: number;
  bytes: number;
}

const int = (x: unknown) => typeof x === 'number' && Number.isInteger(x);

function fail(code: 'INVALID_ARGUMENT' | 'INVALID_SHAPE', field: string, message: string, value?: unknown): never {
  throw new SparseAttentionError(code, `${field}: ${message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`, { field });
}

/** Validates kvCache() options; each bad one is an INVALID_ARGUMENT naming it. */
export function kvCacheConfig(options: unknown, blockK: number): KvCacheConfig {
  if (typeof options !== 'object' || options === null) fail('INVALID_ARGUMENT', 'options', 'must be an object { headsKv, headDim, capacity, … }');
  const o = options as KvCacheOptions;
  const known = ['batch', 'headsKv', 'headDim', 'headDimV', 'capacity', 'window', 'layout'];
  for (const key of Object.keys(o)) if (!known.includes(key)) fail('INVALID_ARGUMENT', key, `is not an option of kvCache() (${known.join(', ')})`);
  const positive = (key: keyof KvCacheOptions, value: unknown) => {
    if (!int(value) || (value as number) < 1 || (value as number) > 2 ** 31 - 1) fail('INVALID_ARGUMENT', key, 'must be a positive integer', value);
    return value as number;
  };
  const batch = positive('batch', o.batch ?? 1);
  const headsKv = positive('headsKv', o.headsKv);
  const headDim = positive('headDim', o.headDim);
  const headDimV = positive('headDimV', o.headDimV ?? o.headDim);
  const capacity = positive('capacity', o.capacity);
  const layout = o.layout ?? 'bhsd';
  if (layout !== 'bhsd' && layout !== 'bshd') fail('INVALID_ARGUMENT', 'layout', 'must be "bhsd" or "bshd"', layout);
  let window: number | undefined;
  if (o.window !== undefined) {
    if (!int(o.window) || o.window < 0) fail('INVALID_ARGUMENT', 'window', 'must be a non-negative integer', o.window);
    if (o.window >= capacity)
      fail(
        'INVALID_ARGUMENT',
        'window',
        `must be less than capacity (${capacity}): the cache keeps capacity positions, the window and the new tokens`,
        o.window,
      );
    window = o.window;
  }
  const blocks = Math.ceil(capacity / blockK);
  return { batch, headsKv, headDim, headDimV, capacity, window, layout, slots: blocks * blockK, blocks, blockK };
}

/** The parts of a cache inside its one allocation (64-byte aligned offsets). */
export function kvCacheRegions(c: KvCacheConfig, base: number): KvCacheRegions {
  const heads = c.batch * c.headsKv;
  const align = (n: number) => Math.ceil(n / 64) * 64;
  const kt = base;
  const v = kt + align(heads * c.blocks * c.headDim * c.blockK * 4);
  // 16 bytes of slack after the v tiles, as after every tensor the kernel reads.
  const vbad = v + align(heads * c.slots * dv8(c.headDimV) * 4 + 16);
  const vbadBlock = vbad + align(heads * c.slots * 4);
  const end = vbadBlock + align(heads * c.blocks * 4);
  return { kt, v, vbad, vbadBlock, bytes: end - base };
}

/**
 * A KV cache in a cpu-wasm backend's memory (`backend.kvCache()`): K stored as the kernel's Kᵀ tiles (written at
 * append, so a call over the cache transposes nothing) and V rows, for attention through
 * `backend.attentionResident({ q, k: cache, v: cache, pattern })`. Key positions count every appended token:
 * `length` grows by each append; with a window, positions before `length - slots` are evicted.
 */
export class WasmKvCache {
  readonly batch: number;
  readonly headsKv: number;
  readonly headDim: number;
  readonly headDimV: number;
  readonly capacity: number;
  readonly window: number | undefined;
  readonly layout: Layout;
  /** @internal sizes */
  readonly config: KvCacheConfig;
  /** @internal the backend that made it. */
  readonly owner: object;
  /** @internal the device whose memory holds it. */
  readonly device: CpuWasmDevice;
  /** @internal where its parts lie. */
  readonly regions: KvCacheRegions;
  /** @internal the allocation holding it. */
  readonly at: number;
  #length = 0;
  #first = 0;
  #released = false;
  readonly #append: (cache: WasmKvCache, k: HostTensor, v: HostTensor) => Promise<void>;
  readonly #free: (cache: WasmKvCache) => void;

  /** @internal made by the backend only. */
  constructor(
    owner: object,
    device: CpuWasmDevice,
    config: KvCacheConfig,
    at: number,
    append: (cache: WasmKvCache, k: HostTensor, v: HostTensor) => Promise<void>,
    free: (cache: WasmKvCache) => void,
  ) {
    this.owner = owner;
    this.device = device;
    this.config = config;
    this.at = at;
    this.regions = kvCacheRegions(config, at);
    this.batch = config.batch;
    this.headsKv = config.headsKv;
    this.headDim = config.headDim;
    this.headDimV = config.headDimV;
    this.capacity = config.capacity;
    this.window = config.window;
    this.layout = config.layout;
    this.#append = append;
    this.#free = free;
  }

  /** Positions appended so far (the key positions of the next call run to length - 1). */
  get length(): number {
    return this.#length;
  }

  /** The oldest position still held (0 until a windowed cache wraps around; truncate() does not bring it back). */
  get first(): number {
    return this.#first;
  }

  get released(): boolean {
    return this.#released;
  }

  /**
   * Appends new positions: k [B, Hkv, n, D] and v [B, Hkv, n, Dv] in the cache's layout. The arrays are the
   * caller's again when this returns; `length` grows now, and calls made after it see the new keys.
   */
  append(k: HostTensor, v: HostTensor): Promise<void> {
    return this.#append(this, k, v);
  }

  /** Frees its memory (once the calls already made with it are done); releasing again does nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#free(this);
  }

  /**
   * Drops the positions from `length` on, so the next append writes position `length` again: the draft tokens a
   * speculative decoding step rejected, or a prompt edited from some point. The positions kept are those from
   * `first` on: a ring has overwritten older ones (appending again re-uses exactly the slots of the dropped
   * positions, so nothing still held is lost). Takes effect for the calls and appends made after it.
   */
  truncate(length: number): void {
    if (this.#released) throw new SparseAttentionError('INVALID_ARGUMENT', 'cache: the KV cache was released', { field: 'cache' });
    if (!Number.isInteger(length) || length < this.#first || length > this.#length)
      throw new SparseAttentionError(
        'INVALID_ARGUMENT',
        `length: must be an integer from ${this.#first} (the first position the cache still holds) to ${this.#length} (got ${String(length)})`,
        { field: 'length' },
      );
    this.#length = length;
  }

  /** @internal moves length on by n (at append time); a ring's oldest positions go. */
  grow(n: number): void {
    this.#length += n;
    this.#first = Math.max(this.#first, this.#length - this.config.slots);
  }

  /** Its shape as a k (`dim` = D) or v (`dim` = Dv) tensor of a request in `layout`. */
  shapeAs(layout: Layout, dim: number): number[] {
    return layout === 'bhsd' ? [this.batch, this.headsKv, this.#length, dim] : [this.batch, this.#length, this.headsKv, dim];
  }

  toString(): string {
    return `WasmKvCache(B=${this.batch}, Hkv=${this.headsKv}, D=${this.headDim}, length ${this.#length}, capacity ${this.capacity}${this.window === undefined ? '' : `, window ${this.window}`}${this.#released ? ', released' : ''})`;
  }
}

/** Checks the k and v of an append against the cache; returns n, the new positions. */
export function checkAppend(cache: WasmKvCache, k: unknown, v: unknown): number {
  const c = cache.config;
  const [hAxis, sAxis] = c.layout === 'bhsd' ? [1, 2] : [2, 1];
  const dims = (t: unknown, name: 'k' | 'v', dim: number) => {
    const h = t as HostTensor;
    if (typeof t !== 'object' || t === null) fail('INVALID_SHAPE', name, 'must be a tensor { data: Float32Array, shape: [4 sizes] }');
    if (!Array.isArray(h.shape) || h.shape.length !== 4) fail('INVALID_SHAPE', `${name}.shape`, 'must have rank 4', h.shape);
    h.shape.forEach((x, n) => {
      if (!int(x) || x < 1) fail('INVALID_SHAPE', `${name}.shape[${n}]`, 'must be a positive integer', x);
    });
    if (!(h.data instanceof Float32Array)) fail('INVALID_ARGUMENT', `${name}.data`, 'must be a Float32Array');
    if (h.data.length === 0) fail('INVALID_ARGUMENT', `${name}.data`, 'is detached (its ArrayBuffer was transferred) or empty');
    const s = h.shape;
    if (s[0] !== c.batch) fail('INVALID_SHAPE', `${name}.shape[0]`, `batch must equal the cache's (${c.batch})`, s[0]);
    if (s[hAxis] !== c.headsKv) fail('INVALID_SHAPE', `${name}.shape[${hAxis}]`, `kv heads must equal the cache's (${c.headsKv})`, s[hAxis]);
    if (s[3] !== dim) fail('INVALID_SHAPE', `${name}.shape[3]`, `head dim must equal the cache's (${dim})`, s[3]);
    const size = s[0]! * s[1]! * s[2]! * s[3]!;
    if (h.data.length !== size) fail('INVALID_SHAPE', `${name}.data`, `length must equal the product of ${name}.shape (${size})`, h.data.length);
    return s[sAxis]!;
  };
  const n = dims(k, 'k', c.headDim);
  const nv = dims(v, 'v', c.headDimV);
  if (nv !== n) fail('INVALID_SHAPE', `v.shape[${sAxis}]`, `new positions must equal k's (${n})`, nv);
  const field = `k.shape[${sAxis}]`;
  if (c.window === undefined && cache.length + n > c.capacity)
    fail(
      'INVALID_SHAPE',
      field,
      `appending ${n} positions to a KV cache holding ${cache.length} of its capacity ${c.capacity}; create it with a larger capacity, or with a window (a ring that evicts old positions)`,
      n,
    );
  if (n > c.slots) fail('INVALID_SHAPE', field, `appending ${n} positions at once to a KV cache that keeps ${c.slots}; append fewer at a time`, n);
  return n;
}

/** Zeroes the flags of a new cache (its memory may hold an earlier allocation's bytes). */
export function clearKvCache(memory: WebAssembly.Memory, r: KvCacheRegions): void {
  new Int32Array(memory.buffer).fill(0, r.vbad >> 2, (r.kt + r.bytes) >> 2);
}

/**
 * Writes positions start .. start + n of k and v (the cache's layout) into the cache: each key into its Kᵀ tile
 * (chunk c >> 3, lane c & 7), each v row into its V tile (zeros and a flag where it holds a non-finite value), then the
 * block flags of the blocks touched.
 */
export function writeAppend(memory: WebAssembly.Memory, cache: WasmKvCache, k: Float32Array, v: Float32Array, start: number, n: number): void {
  const c = cache.config;
  const r = cache.regions;
  const { batch: B, headsKv: Hkv, headDim: D, headDimV: Dv, slots, blocks, blockK: bk } = c;
  const F = new Float32Array(memory.buffer);
  const I = new Int32Array(memory.buffer);
  const ks = strides(c.layout, Hkv, n, D);
  const vs = strides(c.layout, Hkv, n, Dv);
  const ktBlock = D * bk;
  const Dv8 = dv8(Dv);
  const vtBlock = Dv8 * bk;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hkv; h++) {
      const bh = b * Hkv + h;
      const kt = (r.kt >> 2) + bh * blocks * ktBlock;
      const vt = (r.v >> 2) + bh * blocks * vtBlock;
      const flags = (r.vbad >> 2) + bh * slots;
      for (let i = 0; i < n; i++) {
        const slot = (start + i) % slots;
        const pb = Math.floor(slot / bk);
        const col = slot - pb * bk;
        let dst = kt + pb * ktBlock + (col >> 3) * D * 8 + (col & 7);
        let src = b * ks.batch + h * ks.head + i * ks.row;
        for (let d = 0; d < D; d++, dst += 8) F[dst] = k[src + d]!;
        src = b * vs.batch + h * vs.head + i * vs.row;
        // Value e of the row at slice e >> 3, key col, lane e & 7 of its block's tile.
        const at = vt + pb * vtBlock + col * 8;
        let bad = false;
        for (let e = 0; e < Dv; e++) {
          const x = v[src + e]!;
          F[at + (e >> 3) * bk * 8 + (e & 7)] = x;
          if (x - x !== 0) bad = true;
        }
        for (let e = bad ? 0 : Dv; e < Dv8; e++) F[at + (e >> 3) * bk * 8 + (e & 7)] = 0;
        I[flags + slot] = bad ? -1 : 0;
      }
      // Block flags: any flagged key among the block's stored keys (older ones included: they may still be read).
      const first = Math.floor((start % slots) / bk);
      const touched = Math.min(blocks, Math.ceil((n + (start % bk)) / bk));
      for (let t = 0; t < touched; t++) {
        const pb = (first + t) % blocks;
        let any = 0;
        for (let col = 0; col < bk; col++) if (I[flags + pb * bk + col] !== 0) any = 1;
        I[(r.vbadBlock >> 2) + bh * blocks + pb] = any;
      }
    }
}

/**
 * Refuses a call over a ring that would need an evicted key: a listed key block entirely before the first position
 * held, or the block holding it with an allowed pair before it (a full block, or a set bit of its tile).
 */
export function checkKept(cache: WasmKvCache, plan: AttentionPlan, table: HeadTable, tiles: { blockQ: number; blockK: number }): void {
  const first = cache.first;
  if (first === 0) return;
  const { blockQ: bq, blockK: bk } = tiles;
  table.masks.forEach((mask, m) => {
    for (let qb = 0; qb < mask.numQBlocks; qb++)
      for (let n = mask.rowPtr[qb]!; n < mask.rowPtr[qb + 1]!; n++) {
        const kb = mask.colIdx[n]!;
        const j0 = kb * bk;
        if (j0 >= first) break;
        let key = -1;
        let row = qb * bq;
        const P = mask.partialIdx[n]!;
        if (P < 0 || j0 + bk <= first) key = j0;
        else
          for (let r = 0; r < bq && key < 0; r++)
            for (let col = 0; col < first - j0; col++)
              if ((mask.bits[(P * bq + r) * mask.wordsPerRow + (col >> 5)]! >>> (col & 31)) & 1) {
                key = j0 + col;
                row = qb * bq + r;
                break;
              }
        if (key >= 0) {
          const h = table.headMask.indexOf(m);
          const field = Array.isArray(plan.patterns) && plan.patterns.some((p) => p !== plan.patterns[0]) ? `pattern[${h}]` : 'pattern';
          throw new SparseAttentionError(
            'INVALID_PATTERN',
            `${field}: query ${row} (position ${row + plan.offset}) may attend key ${key}, which the KV cache no longer holds: it keeps the last ${cache.config.slots} positions (${first} .. ${cache.length - 1}); ` +
              'create the cache with a capacity of at least the window plus the tokens appended per step, or narrow the pattern',
            { field },
          );
        }
      }
  });
}
