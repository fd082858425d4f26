// The resident entry points (docs/resident.md): tensors and KV caches kept in the backend's WebAssembly memory, in
// the resident region below the per-call arena (heap.ts), and attentionResident over them. Everything goes through
// the kit: kit.gate (validation and copies of the caller's arrays, now), kit.call (serialised with calls, after
// start, errors typed). Writes that cannot disturb a call (nothing of this backend running or queued) happen at
// once; others are queued behind the calls made before them. Frees wait until no call is running or queued.
import { type AttentionPlan, type HostTensor, type ResidentRequest, type ResidentResult, SparseAttentionError, type TileSizes } from '@sparse/core';
import { type Kit, planAttentionShapes, shapeOf } from '@sparse/core/backend';
import type { CpuWasmDevice } from './device.js';
import { checkAppend, checkKept, clearKvCache, type KvCacheOptions, kvCacheConfig, kvCacheRegions, WasmKvCache, writeAppend } from './kvcache.js';
import { layoutArena, WASM32_BYTES } from './layout.js';
import { ensureMemory } from './memory.js';
import type { CompiledCall, PlanCache } from './plans.js';
import { chunkCount, chunkPairs, parallelThreads, pieceStats, runPhases } from './run.js';
import { checkOwned, checkOwnTensor, hasNonFinite, isWasmTensor, WasmTensor } from './tensor.js';
import { hostOperands, writeContext, writeLse } from './write.js';

/**
 * What cpu-wasm's attentionResident takes: core's ResidentRequest over WasmTensors, where host tensors may stand
 * in for q, k or v (copied in for the call only), and where k and v may both be one KV cache of this backend.
 */
export type CpuWasmResidentRequest = Omit<ResidentRequest<WasmTensor | HostTensor>, 'k' | 'v'> & {
  k: WasmTensor | HostTensor | WasmKvCache;
  v: WasmTensor | HostTensor | WasmKvCache;
};

export interface ResidentOps {
  /** A copy of a float32 host tensor in the backend's memory (any shape of positive sizes). */
  upload(tensor: HostTensor): Promise<WasmTensor>;
  /** A host copy of a resident tensor. */
  download(tensor: WasmTensor): Promise<HostTensor>;
  /** Frees a resident tensor or KV cache (the same as its own release()). */
  release(t: WasmTensor | WasmKvCache): void;
  /** A KV cache in the backend's memory, empty. */
  kvCache(options: KvCacheOptions): Promise<WasmKvCache>;
  /** Attention on resident tensors (and KV caches); out and lse come back as WasmTensors. */
  attentionResident(request: CpuWasmResidentRequest, options?: { signal?: AbortSignal }): Promise<ResidentResult<WasmTensor>>;
  /** Resident tensors and KV caches of this backend not yet released. */
  liveResident(): number;
}

export interface ResidentSetup {
  owner: object;
  tiles: TileSizes;
  plans: PlanCache;
}

/** One operand of a resident call: a tensor in the memory, a host copy, or a KV cache (k and v). */
type Operand = { kind: 'tensor'; t: WasmTensor } | { kind: 'host'; data: Float32Array; shape: number[] } | { kind: 'cache'; cache: WasmKvCache };

const MAX_ELEMENTS = WASM32_BYTES / 4;

function checkHost(t: unknown, field: string, what: string): HostTensor {
  const h = t as HostTensor;
  if (typeof t !== 'object' || t === null || !(h.data instanceof Float32Array))
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be ${what} or a host tensor { data: Float32Array, shape }`, { field });
  if (!Array.isArray(h.shape) || h.shape.length === 0 || !h.shape.every((n) => Number.isInteger(n) && n >= 1))
    throw new SparseAttentionError('INVALID_SHAPE', `${field}.shape: must be an array of positive integer sizes (got ${JSON.stringify(h.shape)})`, {
      field: `${field}.shape`,
    });
  const size = h.shape.reduce((a, b) => a * b, 1);
  if (h.data.length === 0)
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}.data: is detached (its ArrayBuffer was transferred) or empty`, { field: `${field}.data` });
  if (h.data.length !== size)
    throw new SparseAttentionError('INVALID_SHAPE', `${field}.data: length must be the product of the shape (${size}) (got ${h.data.length})`, {
      field: `${field}.data`,
    });
  if (size > MAX_ELEMENTS) throw new SparseAttentionError('RESOURCE_LIMIT', `${field}: ${size} values are more than a wasm32 memory can hold`, { field });
  return h;
}

/** The resident operations of a backend, on the kit's gate. */
export function residentOps(kit: Kit<CpuWasmDevice>, setup: ResidentSetup): ResidentOps & { track<T>(p: Promise<T>): Promise<T> } {
  const { owner, tiles, plans } = setup;
  /** Calls of this backend running or queued (host pieces and resident jobs). */
  let pending = 0;
  let live = 0;
  const deferred: { device: CpuWasmDevice; at: number }[] = [];
  const collected = new FinalizationRegistry<{ device: CpuWasmDevice; at: number }>(({ device, at }) => {
    live--;
    free(device, at);
  });

  function free(device: CpuWasmDevice, at: number): void {
    if (device.released) return;
    if (pending === 0) device.heap.release(at);
    else deferred.push({ device, at });
  }

  function track<T>(p: Promise<T>): Promise<T> {
    pending++;
    const done = () => {
      if (--pending > 0) return;
      for (const { device, at } of deferred.splice(0)) if (!device.released) device.heap.release(at);
    };
    p.then(done, done);
    return p;
  }

  /** Runs `fn` now when the started device is idle (nothing running or queued), else queued like a call. */
  function now<T>(fn: (ctx: CpuWasmDevice) => T, late: () => (ctx: CpuWasmDevice) => T): Promise<T> {
    const ctx = kit.live();
    if (ctx !== null && !ctx.released && pending === 0) return Promise.resolve(fn(ctx));
    const run = late();
    return track(kit.call(async (c) => run(c)));
  }

  /** Allocates `bytes` in the resident region, growing the memory first (RESOURCE_LIMIT naming `field`). */
  function allocate(ctx: CpuWasmDevice, bytes: number, field: string): number {
    const { top } = ctx.heap.peek(bytes);
    const limit = Math.min(WASM32_BYTES, ctx.runner.maxBytes);
    if (top > limit)
      throw new SparseAttentionError('RESOURCE_LIMIT', `${field}: cpu-wasm's memory cannot hold ${bytes} more bytes of resident data (limit ${limit} bytes)`, {
        field,
      });
    try {
      ensureMemory(ctx.runner.memory, top);
    } catch (e) {
      throw new SparseAttentionError('RESOURCE_LIMIT', `${field}: ${(e as Error).message}`, { field, cause: e });
    }
    return ctx.heap.alloc(bytes);
  }

  function tensor(ctx: CpuWasmDevice, shape: readonly number[], field: string): WasmTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    // 16 bytes of slack after every tensor the kernel reads or writes.
    const at = allocate(ctx, size * 4 + 16, field);
    const t = new WasmTensor(owner, ctx, at, shape, (x) => {
      collected.unregister(x);
      live--;
      free(x.device, x.at);
    });
    live++;
    collected.register(t, { device: ctx, at }, t);
    return t;
  }

  function operand(x: unknown, field: 'q' | 'k' | 'v'): Operand {
    if (x instanceof WasmKvCache) {
      if (field === 'q') throw new SparseAttentionError('INVALID_ARGUMENT', 'q: must be a WasmTensor or a host tensor, not a KV cache', { field });
      checkOwned(x, owner, field, 'KV cache');
      return { kind: 'cache', cache: x };
    }
    if (isWasmTensor(x)) {
      const t = checkOwnTensor(x, owner, field);
      if (t.shape.length !== 4)
        throw new SparseAttentionError('INVALID_SHAPE', `${field}.shape: must have rank 4 ([B, H, S, D] or [B, S, H, D]); rank ${t.shape.length}`, {
          field: `${field}.shape`,
        });
      return { kind: 'tensor', t };
    }
    const h = checkHost(x, field, 'a WasmTensor');
    return { kind: 'host', data: h.data, shape: Array.from(h.shape) };
  }

  /** The device still holds what the call uses (a lost device took its tensors with it). */
  function stillThere(ctx: CpuWasmDevice, ops: Operand[]): void {
    for (const [n, op] of ops.entries()) {
      const held = op.kind === 'tensor' ? op.t.device : op.kind === 'cache' ? op.cache.device : ctx;
      if (held !== ctx || held.released)
        throw new SparseAttentionError('DEVICE_LOST', `${'qkv'[n]}: its memory was lost with the device it lived on (a worker thread died); upload it again`, {
          field: 'qkv'[n]!,
        });
    }
  }

  async function runResident(
    ctx: CpuWasmDevice,
    plan: AttentionPlan,
    compiled: CompiledCall,
    q: Operand,
    k: Operand,
    v: Operand,
    signal: AbortSignal | undefined,
  ): Promise<ResidentResult<WasmTensor>> {
    const t0 = performance.now();
    stillThere(ctx, [q, k, v]);
    const { runner } = ctx;
    const { batch: B, headsQ: Hq, seqQ: Sq, headDimV: Dv, layout } = plan;
    const cache = k.kind === 'cache' ? k.cache : null;
    const { table } = compiled;
    const chunks = plans.chunks(plan, compiled, chunkCount(ctx), parallelThreads(ctx), cache === null);
    // A v tensor with a non-finite value is copied: the prep phase zeroes such rows in the call's own copy.
    if (v.kind === 'tensor') v.t.nonFinite ??= hasNonFinite(v.t.view());
    const vInPlace = v.kind === 'tensor' && !v.t.nonFinite;
    const out = tensor(ctx, shapeOf(layout, B, Hq, Sq, Dv), 'out');
    let lse: WasmTensor | undefined;
    try {
      if (plan.returnLse) lse = tensor(ctx, [B, Hq, Sq], 'lse');
      const arena = layoutArena({
        plan,
        table,
        tiles,
        threads: runner.threads,
        chunkPairs: chunkPairs(chunks.chunks),
        splits: chunks.chunks,
        labelJobs: chunks.labelJobs,
        maxBytes: Math.min(WASM32_BYTES, runner.maxBytes),
        base: ctx.heap.top,
        resident: { q: q.kind === 'tensor', k: k.kind === 'tensor', v: vInPlace, o: true, kv: cache !== null },
      });
      const grew = ensureMemory(runner.memory, arena.total);
      const at = hostOperands(plan, arena, tiles);
      at.o = out.at;
      if (q.kind === 'tensor') at.q = q.t.at;
      if (k.kind === 'tensor') at.k = k.t.at;
      if (vInPlace) at.v = (v as { t: WasmTensor }).t.at;
      if (cache) {
        const c = cache.config;
        const r = cache.regions;
        Object.assign(at, { k: 0, v: r.v, kt: r.kt, vbad: r.vbad, vbadBlock: r.vbadBlock, ktBlocks: c.blocks, transpose: false, vTiled: true });
      }
      writeContext(runner.memory, plan, table, arena, chunks.chunks, tiles, at);
      const F = new Float32Array(runner.memory.buffer);
      if (q.kind === 'host') F.set(q.data, arena.q >> 2);
      if (k.kind === 'host') F.set(k.data, arena.k >> 2);
      if (v.kind === 'host') F.set(v.data, arena.v >> 2);
      else if (v.kind === 'tensor' && !vInPlace) F.copyWithin(arena.v >> 2, v.t.at >> 2, (v.t.at >> 2) + v.t.size);
      const phaseMs = await runPhases(ctx, chunks.phases, signal, performance.now() - t0);
      const r0 = performance.now();
      if (lse) writeLse(runner.memory, plan, arena, lse.view());
      phaseMs.read = performance.now() - r0;
      phaseMs.total = performance.now() - t0;
      ctx.last = pieceStats(plan, table, arena, grew, phaseMs, chunks.chunks);
      kit.record(ctx, 1, phaseMs.total);
      return lse ? { out, lse } : { out };
    } catch (e) {
      out.release();
      lse?.release();
      throw e;
    }
  }

  return {
    track,

    upload(t) {
      return kit.gate(() => {
        const host = checkHost(t, 'tensor', 'a float32 host tensor');
        const shape = Array.from(host.shape);
        const place = (data: Float32Array) => (ctx: CpuWasmDevice) => {
          const x = tensor(ctx, shape, 'tensor');
          x.view().set(data);
          return x;
        };
        return now(place(host.data), () => place(host.data.slice()));
      });
    },

    download(t) {
      return kit.gate(async () => {
        const x = checkOwnTensor(t, owner, 'tensor');
        return { data: x.view().slice(), shape: [...x.shape] };
      });
    },

    release(t) {
      if (isWasmTensor(t) || t instanceof WasmKvCache) {
        if (t.owner !== owner)
          throw new SparseAttentionError('INVALID_ARGUMENT', 'tensor: belongs to another cpu-wasm backend; release it there', { field: 'tensor' });
        t.release();
        return;
      }
      throw new SparseAttentionError('INVALID_ARGUMENT', 'tensor: must be a WasmTensor or a WasmKvCache of this backend', { field: 'tensor' });
    },

    kvCache(options) {
      return kit.gate(() => {
        const config = kvCacheConfig(options, tiles.blockK);
        const bytes = kvCacheRegions(config, 0).bytes;
        const make = (ctx: CpuWasmDevice) => {
          const at = allocate(ctx, bytes, 'capacity');
          const cache = new WasmKvCache(owner, ctx, config, at, append, (c) => {
            collected.unregister(c);
            live--;
            free(c.device, c.at);
          });
          live++;
          // A cache dropped without release() is freed when collected, as tensors are.
          collected.register(cache, { device: ctx, at }, cache);
          clearKvCache(ctx.runner.memory, cache.regions);
          return cache;
        };
        return now(make, () => make);
      });
    },

    attentionResident(request, options) {
      const signal = options?.signal;
      return kit.gate(() => {
        if (typeof request !== 'object' || request === null)
          throw new SparseAttentionError('INVALID_ARGUMENT', 'request: must be an object with q, k, v and pattern', { field: 'request' });
        const q = operand(request.q, 'q');
        const k = operand(request.k, 'k');
        const v = operand(request.v, 'v');
        if ((k.kind === 'cache' || v.kind === 'cache') && !(k.kind === 'cache' && v.kind === 'cache' && k.cache === v.cache))
          throw new SparseAttentionError('INVALID_ARGUMENT', `${k.kind === 'cache' ? 'v' : 'k'}: a KV cache must be given as both k and v`, {
            field: k.kind === 'cache' ? 'v' : 'k',
          });
        const layout = request.layout ?? 'bhsd';
        const shape = (op: Operand, dim: 'k' | 'v'): readonly number[] =>
          op.kind === 'tensor'
            ? op.t.shape
            : op.kind === 'host'
              ? op.shape
              : op.cache.shapeAs(layout === 'bshd' ? 'bshd' : 'bhsd', dim === 'k' ? op.cache.headDim : op.cache.headDimV);
        const { q: _q, k: _k, v: _v, ...rest } = request;
        if (k.kind === 'cache' && k.cache.length === 0)
          throw new SparseAttentionError('INVALID_SHAPE', 'k: the KV cache is empty; append() keys and values first', { field: 'k' });
        const plan = planAttentionShapes({ ...rest, q: shape(q, 'k'), k: shape(k, 'k'), v: shape(v, 'v') });
        const compiled = plans.get(plan);
        if (k.kind === 'cache') {
          if (compiled.table.hasCluster)
            throw new SparseAttentionError(
              'UNSUPPORTED',
              'pattern: cluster patterns need the key rows, which a KV cache keeps only as Kᵀ tiles; run them on k and v tensors',
              { field: 'pattern' },
            );
          checkKept(k.cache, plan, compiled.table, tiles);
        } else kit.check(plan);
        // Host operands are the caller's again when this returns.
        for (const op of [q, k, v]) if (op.kind === 'host') op.data = op.data.slice();
        return track(kit.call((ctx) => runResident(ctx, plan, compiled, q, k, v, signal), signal));
      });
    },

    liveResident: () => live,
  };

  function append(cache: WasmKvCache, k: HostTensor, v: HostTensor): Promise<void> {
    return kit.gate(() => {
      checkOwned(cache, owner, 'cache', 'KV cache');
      const n = checkAppend(cache, k, v);
      const start = cache.length;
      cache.grow(n);
      const write = (kd: Float32Array, vd: Float32Array) => (ctx: CpuWasmDevice) => {
        if (cache.device !== ctx || ctx.released)
          throw new SparseAttentionError('DEVICE_LOST', 'cache: its memory was lost with the device it lived on (a worker thread died); make a new one', {
            field: 'cache',
          });
        writeAppend(ctx.runner.memory, cache, kd, vd, start, n);
      };
      return now(write(k.data, v.data), () => write(k.data.slice(), v.data.slice()));
    });
  }
}
