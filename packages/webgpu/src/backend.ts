import {
  type AttentionPlan,
  type AttentionRequest,
  type AttentionResult,
  type Backend,
  BlockMaskCache,
  type BlockMaskStats,
  isSparseAttentionError,
  type ProbeResult,
  SparseAttentionError,
} from '@sparse/core';
import { attendByResidue, planAttention, residuePartition, shapeOf } from '@sparse/core/backend';
import { type DeviceContext, DeviceHolder, type DeviceOptions } from './device.js';
import { estimate } from './estimate.js';
import { keepAlive } from './keep-alive.js';
import { clampLimits, DEFAULT_LIMITS, type TileRequest, validateTiles } from './limits.js';
import { maskSummary, type Prepared, prepare } from './prepare.js';
import { type BufferAttentionRequest, type BufferAttentionResult, checkResidentBuffers, residentOutputs } from './resident.js';
import { copyInputs, type RunStats, runHost, runResident, type StagedInputs, stageInputs } from './run.js';

export interface WebGpuOptions extends DeviceOptions {
  /** Tile sizes of the kernel: blockQ query rows per workgroup (default 16), blockK keys per block (≤ 32, default: the largest that fits). */
  tiles?: TileRequest;
  /** Compiled masks kept (LRU), default 32. */
  maskCacheSize?: number;
  /**
   * Run a host call whose heads are all `dilated` (or dilated `neighborhood`) with one dilation d as d calls on
   * the residue groups with the undilated pattern (default true; core's residuePartition, docs/design.md, Re-ordering). The
   * resident GPUBuffer entry point does not partition.
   */
  partitionDilation?: boolean;
}

/** What the last call ran, for benchmarks and logs. */
export interface RunInfo {
  device: string;
  /** The adapter is a software one (SwiftShader, llvmpipe, a fallback adapter): timings are not a GPU's. */
  software: boolean;
  blockQ: number;
  blockK: number;
  threadsPerRow: number;
  chunks: number;
  dispatches: number;
  submits: number;
  masks: BlockMaskStats[];
  pipelinesCompiled: number;
  buffersCreated: number;
  buffersReused: number;
  /** GPUBuffers of the pool that exist after the call (in use or kept for reuse): flat across repeated calls. */
  buffersLive: number;
}

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  /**
   * Resident path: GPUBuffers in and out on the backend's device (pass your own with `options.device`, or take
   * this backend's from `device()`). Returns after the work is submitted and validated; the outputs are ready
   * for your next commands on the same queue. Buffers the backend creates for the outputs are yours to destroy.
   */
  attentionBuffers(request: BufferAttentionRequest, options?: { signal?: AbortSignal }): Promise<BufferAttentionResult>;
  /** The device the backend runs on (created on first use). */
  device(): Promise<GPUDevice>;
  lastRun(): RunInfo | null;
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal', { field: 'signal' });
}

/**
 * The WebGPU backend: fused block-sparse attention in WGSL on navigator.gpu (browsers) or the `webgpu` package
 * (Node, Dawn). Creates its own device unless given one; see the README for the options.
 */
export function webgpu(options: WebGpuOptions = {}): WebGpuBackend {
  if (options.partitionDilation !== undefined && typeof options.partitionDilation !== 'boolean')
    throw new SparseAttentionError('INVALID_ARGUMENT', `partitionDilation: must be a boolean (got ${String(options.partitionDilation)})`, {
      field: 'partitionDilation',
    });
  const tiles: TileRequest = { ...options.tiles };
  const tileProblem = validateTiles(tiles);
  const holder = new DeviceHolder(options);
  const cache = new BlockMaskCache(options.maskCacheSize ?? 32);
  let last: RunInfo | null = null;

  const record = (ctx: DeviceContext, p: Prepared, s: RunStats) => {
    last = {
      device: ctx.description,
      software: ctx.software,
      blockQ: p.cfg.BQ,
      blockK: p.cfg.BK,
      threadsPerRow: p.cfg.TPR,
      chunks: s.chunks,
      dispatches: s.dispatches,
      submits: s.submits,
      masks: maskSummary(p),
      pipelinesCompiled: ctx.pipelines.compiled,
      buffersCreated: ctx.pool.created,
      buffersReused: ctx.pool.reused,
      buffersLive: ctx.pool.live,
    };
  };

  /** Errors after the device is known: a lost device becomes DEVICE_LOST, anything else keeps or gets a code. */
  const translate = async (e: unknown, ctx: DeviceContext): Promise<unknown> => {
    if (holder.disposedError())
      return new SparseAttentionError('BACKEND_UNAVAILABLE', 'webgpu: the backend was disposed during the call; create a new backend to run again', {
        field: 'backend',
        cause: e,
      });
    if (await holder.isLost(ctx)) {
      const info = ctx.lost!;
      const next = ctx.owned ? 'the next call creates a new device' : 'pass a new device to a new backend';
      return new SparseAttentionError('DEVICE_LOST', `webgpu: the device was lost during the call (${info.reason}: ${info.message}); ${next}`, {
        field: 'device',
        cause: e,
      });
    }
    if (isSparseAttentionError(e)) return e;
    return new SparseAttentionError('INTERNAL', `webgpu: ${(e as Error)?.message ?? String(e)}`, { field: 'device', cause: e });
  };

  const precheck = (signal: AbortSignal | undefined) => {
    const gone = holder.disposedError();
    if (gone) throw gone;
    if (tileProblem) throw new SparseAttentionError('INVALID_ARGUMENT', tileProblem, { field: 'tiles' });
    checkAbort(signal);
  };

  const start = async (signal: AbortSignal | undefined) => {
    precheck(signal);
    const ctx = await holder.get();
    checkAbort(signal);
    return ctx;
  };

  // Everything up to the first await runs before attention() returns its promise: validation, the private copy
  // of the patterns, and the upload (or copy) of q, k, v. The caller may then reuse its arrays and patterns.
  const hostAttention = async (request: AttentionRequest, signal: AbortSignal | undefined): Promise<AttentionResult> => {
    const plan = planAttention(request); // also refuses detached arrays and keeps private copies of the patterns
    const partition = options.partitionDilation !== false && residuePartition(plan) !== null;
    if (!partition) return hostAttentionPlanned(request, plan, signal);
    // Core gathers every residue group before its first await; the device is started (and the whole call sized
    // against its limits) when the first group runs, before any group does.
    let ready: Promise<unknown> | undefined;
    return attendByResidue(request, plan, true, async (r, p) => {
      ready ??= start(signal).then((ctx) => estimate(plan, true, ctx.limits, cache, tiles));
      await ready;
      return hostAttentionPlanned(r, p, signal);
    });
  };

  const hostAttentionPlanned = async (request: AttentionRequest, plan: AttentionPlan, signal: AbortSignal | undefined): Promise<AttentionResult> => {
    precheck(signal);
    const data = { q: request.q.data, k: request.k.data, v: request.v.data };
    const live = holder.live();
    let ctx: DeviceContext;
    let p: Prepared;
    let input: StagedInputs;
    if (live) {
      ctx = live;
      p = prepare(plan, ctx.limits, cache, tiles);
      input = stageInputs(ctx, p, data, false);
    } else {
      const copies = copyInputs(data);
      ctx = await start(signal);
      p = prepare(plan, ctx.limits, cache, tiles);
      input = stageInputs(ctx, p, copies, true);
    }
    try {
      const r = await runHost(ctx, p, input, signal);
      record(ctx, p, r.stats);
      const result: AttentionResult = { out: { data: r.out, shape: shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) } };
      if (r.lse) result.lse = { data: r.lse, shape: [plan.batch, plan.headsQ, plan.seqQ] };
      return result;
    } catch (e) {
      throw await translate(e, ctx);
    }
  };

  const residentAttention = async (request: BufferAttentionRequest, signal: AbortSignal | undefined): Promise<BufferAttentionResult> => {
    const plan = checkResidentBuffers(request);
    const ctx = await start(signal);
    const p = prepare(plan, ctx.limits, cache, tiles);
    try {
      const outputs = await residentOutputs(ctx, plan, request);
      const s = await runResident(ctx, p, {
        q: request.q.buffer,
        k: request.k.buffer,
        v: request.v.buffer,
        out: outputs.out.buffer,
        lse: outputs.lse?.buffer ?? null,
      });
      record(ctx, p, s);
      return outputs;
    } catch (e) {
      throw await translate(e, ctx);
    }
  };

  return {
    name: 'webgpu',

    probe(): Promise<ProbeResult> {
      return keepAlive(async () => {
        try {
          const ctx = await holder.get();
          return { available: true, device: ctx.description };
        } catch (e) {
          return { available: false, reason: (e as Error).message };
        }
      });
    },

    supports(request: AttentionRequest): true | string {
      const gone = holder.disposedError();
      if (gone) return gone.message;
      if (tileProblem) return tileProblem;
      try {
        const plan = planAttention(request);
        // The device's limits once it exists; before that WebGPU's defaults, which every adapter offers.
        const limits = holder.live()?.limits ?? clampLimits(DEFAULT_LIMITS, options.limits);
        estimate(plan, options.partitionDilation !== false, limits, cache, tiles);
        return true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : String(e);
      }
    },

    attention(request, opts): Promise<AttentionResult> {
      return keepAlive(() => hostAttention(request, opts?.signal));
    },

    attentionBuffers(request, opts): Promise<BufferAttentionResult> {
      return keepAlive(() => residentAttention(request, opts?.signal));
    },

    device(): Promise<GPUDevice> {
      return keepAlive(async () => (await holder.get()).device);
    },

    lastRun(): RunInfo | null {
      return last;
    },

    async dispose(): Promise<void> {
      cache.clear();
      await keepAlive(() => holder.dispose());
    },
  };
}
