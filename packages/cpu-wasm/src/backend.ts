import {
  type AttentionPlan,
  type AttentionRequest,
  type AttentionResult,
  type Backend,
  BlockMaskCache,
  isSparseAttentionError,
  type ProbeResult,
  SparseAttentionError,
} from '@sparse/core';
import { attendByResidue, ownedRequest, planAttention, residuePartition } from '@sparse/core/backend';
import { RC_ABORTED } from './abi.js';
import { sharedMemorySupport } from './env.js';
import { type HeadSpecs, headSpecs } from './heads.js';
import { InlineRunner } from './inline.js';
import { type Arena, layoutArena, WASM32_BYTES } from './layout.js';
import { compileKernel, type Phase } from './loader.js';
import { createKernelMemory, ensureMemory } from './memory.js';
import { type CpuWasmOptions, resolveOptions } from './options.js';
import { CHUNKS_PER_THREAD, INLINE_CHUNKS, planChunks } from './plan.js';
import type { Platform } from './platform/types.js';
import { WorkerPool } from './pool.js';
import { resourceRefusal } from './resources.js';
import type { Outcome, Runner } from './runner.js';
import { emptyResult, groupRequest, headGroups, SPLIT_BYTES, scatterGroup } from './split.js';
import { raiseAbort, readResult, writeCall } from './write.js';

/** Figures of the last call, for benchmarks and diagnostics. */
export interface CallStats {
  /** Bytes of wasm memory the call laid out (inputs, outputs, Kᵀ, masks, tables, scratch). */
  arenaBytes: number;
  /** Whether the memory had to grow for it. */
  grew: boolean;
  /** Allowed (query, key) pairs over all (batch, head), from the compiled masks (within, for content-based heads). */
  nnz: number;
  /** Bytes of the distinct compiled masks. */
  maskBytes: number;
  threads: number;
  /**
   * Milliseconds: `setup` (validation, masks, layout, copying the inputs in, on the calling thread), each phase,
   * `read` (copying the results out), and `total`.
   */
  ms: { setup: number; prep: number; topk: number; attend: number; read: number; total: number };
}

export interface CpuWasmInfo {
  /** 'workers' (shared memory, worker threads), 'inline' (calling thread), or 'idle' before the first call / probe. */
  mode: 'workers' | 'inline' | 'idle';
  threads: number;
  /** Size of the WebAssembly memory now (it only grows, and is reused across calls). */
  memoryBytes: number;
  /** Why the backend runs single-threaded, when it does. */
  fallbackReason?: string;
  lastCall?: CallStats;
}

/** The cpu-wasm Backend, plus diagnostics and fault drills. */
export interface CpuWasmBackend extends Backend {
  info(): CpuWasmInfo;
  /**
   * Fault drills (used by the tests, usable by anyone checking recovery): 'trap' makes the next call's kernel
   * read outside the memory (a real wasm trap); 'kill-worker' makes worker 0 exit during the next call. The call
   * fails with a SparseAttentionError and the call after it works.
   */
  injectFault(fault: 'trap' | 'kill-worker'): void;
}

const aborted = () => new SparseAttentionError('ABORTED', 'signal: the call was aborted by its AbortSignal', { field: 'signal' });

const DISPOSED = 'cpu-wasm: this backend was disposed; create a new one with cpuWasm() to run again';
const unavailable = () => new SparseAttentionError('BACKEND_UNAVAILABLE', DISPOSED, { field: 'backend' });

/** A call laid out in the memory with its inputs copied in, ready to run. */
interface Written {
  plan: AttentionPlan;
  specs: HeadSpecs;
  arena: Arena;
  phases: Phase[];
  grew: boolean;
  t0: number;
}

/** Whatever a call throws, as a SparseAttentionError (anything else is a bug of this package). */
function typed(e: unknown): SparseAttentionError {
  if (isSparseAttentionError(e)) return e;
  return new SparseAttentionError('INTERNAL', `cpu-wasm: unexpected error (${(e as Error)?.message ?? String(e)}); please report it`, {
    field: 'request',
    cause: e,
  });
}

function failure(outcomes: Outcome[]): SparseAttentionError | null {
  const bad = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  if (bad.length === 0) return null;
  const death = bad.find((o) => o.kind === 'death');
  if (death)
    return new SparseAttentionError('DEVICE_LOST', `cpu-wasm: a worker thread died during the call (${death.message}); it is restarted for the next call`, {
      field: 'threads',
    });
  const first = bad[0]!;
  return new SparseAttentionError('INTERNAL', `cpu-wasm: the kernel failed (${first.message}); the instance was rebuilt for the next call`, {
    field: 'kernel',
  });
}

/** cpuWasm (documented in index.ts) on one platform. */
export function createCpuWasm(platform: Platform, options: CpuWasmOptions = {}): CpuWasmBackend {
  const opts = resolveOptions(options);
  const tiles = { blockQ: opts.blockQ, blockK: opts.blockK };
  const cache = new BlockMaskCache(opts.maskCacheSize);
  const splitBytes = options.splitBytes ?? SPLIT_BYTES;
  if (typeof splitBytes !== 'number' || !(splitBytes > 0))
    throw new SparseAttentionError('INVALID_ARGUMENT', `splitBytes: must be a positive number of bytes (got ${String(splitBytes)})`, { field: 'splitBytes' });
  let runner: Promise<Runner> | null = null;
  let fallbackReason: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let fault: 'trap' | 'kill-worker' | null = null;
  let lastCall: CallStats | undefined;
  let current: Runner | null = null;
  let disposed = false;
  let disposal: Promise<void> | null = null;

  /** The one resource check of supports() and attention() (see resources.ts). */
  const refusal = (plan: AttentionPlan) =>
    resourceRefusal(plan, {
      cache,
      tiles,
      splitBytes,
      partitionDilation: opts.partitionDilation,
      limit: Math.min(WASM32_BYTES, current?.maxBytes ?? WASM32_BYTES),
    });

  async function makeRunner(): Promise<Runner> {
    const support = sharedMemorySupport();
    if (!opts.inline && support.ok) {
      const threads = opts.threads ?? (await platform.defaultThreadCount());
      const module = await compileKernel(platform, true);
      const { memory, maxBytes } = createKernelMemory(true);
      return new WorkerPool(platform, threads, module, memory, maxBytes);
    }
    fallbackReason = opts.inline ? 'inline: true was requested' : (support as { reason: string }).reason;
    const module = await compileKernel(platform, false);
    const { memory, maxBytes } = createKernelMemory(false);
    return new InlineRunner(module, memory, maxBytes);
  }

  function getRunner(): Promise<Runner> {
    if (!runner) {
      runner = makeRunner().then(
        (r) => {
          current = r;
          return r;
        },
        (e) => {
          runner = null;
          throw e;
        },
      );
    }
    return runner;
  }

  /** Serialises calls: they share one memory. `busy` counts the jobs queued or running. */
  let busy = 0;
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    busy++;
    const job = () =>
      fn().finally(() => {
        busy--;
      });
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Everything that reads the caller's request happens here, before the promise is returned: validation, the
   * resource check and the snapshot. The call then waits for the memory; dilated heads run as calls over residue
   * groups (core's residuePartition), each undilated.
   */
  function attention(request: AttentionRequest, signal: AbortSignal | undefined): Promise<AttentionResult> {
    try {
      if (disposed) throw unavailable();
      if (signal?.aborted) throw aborted();
      const plan = planAttention(request);
      const why = refusal(plan);
      if (why) throw new SparseAttentionError('RESOURCE_LIMIT', why, { field: 'request' });
      // Idle, started, and one kernel call: the inputs go straight into the memory, no snapshot needed.
      const r = current;
      if (busy === 0 && r && !(opts.partitionDilation && residuePartition(plan)) && headGroups(plan, splitBytes).length === 0) {
        const w = writeInputs(request, plan, r, performance.now());
        return exclusive(() => runWritten(w, r, signal)).catch((e) => {
          throw typed(e);
        });
      }
      const own = ownedRequest(request, plan);
      return exclusive(() => attendByResidue(own, plan, opts.partitionDilation, (r, p) => attentionSplit(r, p, signal))).catch((e) => {
        throw typed(e);
      });
    } catch (e) {
      return Promise.reject(typed(e));
    }
  }

  /** Large calls run as sub-calls over kv-head groups so the wasm arena holds one group (see split.ts). */
  async function attentionSplit(request: AttentionRequest, plan: AttentionPlan, signal: AbortSignal | undefined): Promise<AttentionResult> {
    const groups = headGroups(plan, splitBytes);
    if (groups.length === 0) return attendOnce(request, plan, signal);
    const full = emptyResult(plan);
    for (const g of groups) scatterGroup(full, await attendOnce(groupRequest(request, plan, g), null, signal), plan, g);
    return full;
  }

  async function attendOnce(request: AttentionRequest, validated: AttentionPlan | null, signal: AbortSignal | undefined): Promise<AttentionResult> {
    const t0 = performance.now();
    if (signal?.aborted) throw aborted();
    const plan = validated ?? planAttention(request);
    const r = await getRunner();
    return runWritten(writeInputs(request, plan, r, t0), r, signal);
  }

  /** Lays the call out in the memory and copies its inputs in, synchronously. */
  function writeInputs(request: AttentionRequest, plan: AttentionPlan, r: Runner, t0: number): Written {
    const specs = headSpecs(plan, cache, tiles);
    const { chunks, phases, labelJobs } = planChunks(plan, specs, tiles, r.shared ? r.threads * CHUNKS_PER_THREAD : INLINE_CHUNKS);
    const arena = layoutArena({
      plan,
      specs,
      tiles,
      threads: r.threads,
      chunkPairs: { prep: chunks.prep.length >> 1, topk: chunks.topk.length >> 1, attend: chunks.attend.length >> 1 },
      labelJobs,
      maxBytes: Math.min(WASM32_BYTES, r.maxBytes),
    });
    const grew = ensureMemory(r.memory, arena.total);
    const drill = fault;
    fault = null;
    if (drill === 'kill-worker' && r instanceof WorkerPool) r.killOnNextAttend = 0;
    writeCall(r.memory, request, plan, specs, arena, chunks, tiles, drill === 'trap');
    return { plan, specs, arena, phases, grew, t0 };
  }

  /** Runs the phases of a call already in the memory and reads its result out. */
  async function runWritten(w: Written, r: Runner, signal: AbortSignal | undefined): Promise<AttentionResult> {
    const { plan, specs, arena, phases, grew, t0 } = w;
    await r.ready();
    if (signal?.aborted) throw aborted();

    const onAbort = () => raiseAbort(r.memory);
    signal?.addEventListener('abort', onAbort);
    const ms = { setup: performance.now() - t0, prep: 0, topk: 0, attend: 0, read: 0, total: 0 };
    r.hold(true);
    try {
      for (const phase of phases) {
        const p0 = performance.now();
        const outcomes = await r.run(phase, signal);
        ms[phase] = performance.now() - p0;
        const err = failure(outcomes);
        if (err) throw err;
        if (outcomes.some((o) => o.ok && o.rc === RC_ABORTED) || signal?.aborted) throw aborted();
      }
    } finally {
      r.hold(false);
      signal?.removeEventListener('abort', onAbort);
      if (r instanceof WorkerPool) r.killOnNextAttend = -1;
    }
    const r0 = performance.now();
    const result = readResult(r.memory, plan, arena);
    ms.read = performance.now() - r0;
    let nnz = 0;
    specs.heads.forEach((s) => {
      nnz += specs.masks[s.mask]!.stats.nnz * plan.batch;
    });
    ms.total = performance.now() - t0;
    lastCall = { arenaBytes: arena.total, grew, nnz, maskBytes: specs.masks.reduce((a, m) => a + m.stats.bytes, 0), threads: r.threads, ms };
    return result;
  }

  return {
    name: 'cpu-wasm',
    async probe(): Promise<ProbeResult> {
      if (disposed) return { available: false, reason: DISPOSED };
      try {
        const r = await exclusive(async () => {
          const r = await getRunner();
          await r.ready();
          return r;
        });
        const device =
          r instanceof WorkerPool
            ? `WebAssembly SIMD128 (AssemblyScript), ${r.threads} worker thread${r.threads === 1 ? '' : 's'} over one shared memory`
            : `WebAssembly SIMD128 (AssemblyScript), single-threaded on the calling thread (${fallbackReason})`;
        return { available: true, device };
      } catch (e) {
        return { available: false, reason: isSparseAttentionError(e) ? e.message : `cpu-wasm: ${(e as Error).message}` };
      }
    },
    supports(request) {
      if (disposed) return DISPOSED;
      try {
        return refusal(planAttention(request)) ?? true;
      } catch (e) {
        return typed(e).message;
      }
    },
    attention(request, opts) {
      return attention(request, opts?.signal);
    },
    /** Final and idempotent: calls already made finish first (they are ahead in the queue), later ones are refused. */
    dispose() {
      disposed = true;
      disposal ??= exclusive(async () => {
        const r = runner;
        runner = null;
        current = null;
        cache.clear();
        if (r) await (await r.catch(() => null))?.dispose();
      });
      return disposal;
    },
    info(): CpuWasmInfo {
      const info: CpuWasmInfo = {
        mode: current ? (current instanceof WorkerPool ? 'workers' : 'inline') : 'idle',
        threads: current?.threads ?? 0,
        memoryBytes: current?.memory.buffer.byteLength ?? 0,
      };
      if (fallbackReason) info.fallbackReason = fallbackReason;
      if (lastCall) info.lastCall = lastCall;
      return info;
    },
    injectFault(f) {
      if (f !== 'trap' && f !== 'kill-worker')
        throw new SparseAttentionError('INVALID_ARGUMENT', `injectFault: must be "trap" or "kill-worker" (got ${String(f)})`, { field: 'fault' });
      fault = f;
    },
  };
}
