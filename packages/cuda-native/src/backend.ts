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
import { planAttention, shapeOf } from '@sparse/core/backend';
import type { NativeBinding, NativeBuildInfo, NativePlan } from './binding.js';
import { toSparseError } from './errors.js';
import { type LoadOutcome, loadBinding } from './loader.js';
import { type CudaNativeOptions, PRECISION_CODE, PRECISIONS, type Precision, resolvePrecision } from './options.js';
import { hasTopk, packedNnz, packRequest } from './pack.js';
import { createResidentOps, type ResidentOps, raceAbort } from './resident.js';

export interface ProfileOptions {
  /** Untimed runs first (default 2). */
  warmup?: number;
  /** Timed runs (default 10). */
  iterations?: number;
}

export interface ProfileResult {
  /** GPU time of each timed run (content passes + fused kernel, CUDA events on the stream), ms. */
  iterationMs: number[];
  medianMs: number;
  minMs: number;
  /** Allowed (query, key) pairs over all batches and heads (static patterns; for top-k / cluster the `within`). */
  nnz: number;
  /** Effective TFLOP/s = 4 · nnz · D / median time (FlashAttention's and NATTEN's convention; D = Dv assumed). */
  tflops: number;
  /** 'simt' or 'mma64' / 'mma128' / 'mma256' (tensor-core head-dim tier). */
  kernel: string;
  blockQ: number;
  blockK: number;
}

export interface CudaNativeBackend extends Backend, Omit<ResidentOps, 'releaseAll'> {
  readonly name: 'cuda-native';
  readonly precision: Precision;
  /** Runs a request several times on the GPU (inputs uploaded once) and times it with CUDA events. */
  profile(request: AttentionRequest, options?: ProfileOptions): Promise<ProfileResult>;
  /**
   * Where the addon was loaded from, how it was built, and how many resident tensors it holds (process-wide);
   * null when it could not be loaded. Answers after dispose() too.
   */
  info(): Promise<{ path: string; source: string; build: NativeBuildInfo; liveTensors: number } | null>;
}

const KERNEL_NAMES = ['simt', 'mma64', 'mma128', 'mma256'];

/**
 * The CUDA backend: fused block-sparse attention kernels in a Node-API addon. Host arrays in, host arrays out
 * (`attention`), or resident CudaTensors in and out (`upload`, `attentionResident`, `download`); the work runs on
 * libuv's worker threads, several calls may be in flight (each on its own CUDA stream).
 */
export function cudaNative(options: CudaNativeOptions = {}): CudaNativeBackend {
  return createCudaNative(options, (device) => loadBinding({ binaryPath: options.binaryPath, isolate: options.isolateLoad, device }));
}

/** cudaNative() over a given way to load the addon (the tests pass the addon model). */
export function createCudaNative(options: CudaNativeOptions, loadAddon: (device: number) => Promise<LoadOutcome>): CudaNativeBackend {
  const precision = resolvePrecision(options.precision);
  if (!PRECISIONS.includes(precision))
    throw new SparseAttentionError('INVALID_ARGUMENT', `precision: must be one of ${PRECISIONS.join(', ')} (got ${JSON.stringify(options.precision)})`, {
      field: 'precision',
    });
  const device = options.device ?? 0;
  if (!Number.isInteger(device) || device < 0)
    throw new SparseAttentionError('INVALID_ARGUMENT', `device: must be a CUDA device index >= 0 (got ${String(device)})`, { field: 'device' });
  const code = PRECISION_CODE[precision];
  const cache = new BlockMaskCache(options.maskCacheSize ?? 32);
  let loading: Promise<LoadOutcome> | undefined;
  let disposed = false;

  const load = () => {
    loading ??= loadAddon(device);
    return loading;
  };

  async function ready(): Promise<NativeBinding> {
    if (disposed) throw new SparseAttentionError('BACKEND_UNAVAILABLE', 'cuda-native: the backend was disposed', { field: 'backend' });
    const outcome = await load();
    if (!outcome.ok) throw new SparseAttentionError('BACKEND_UNAVAILABLE', `cuda-native: ${outcome.reason}`, { field: 'backend' });
    return outcome.binding;
  }

  /** Validates with core first (typed errors), then the backend's own limits. */
  function validate(request: AttentionRequest): AttentionPlan {
    const plan = planAttention(request);
    const unsupported = limits(plan.headDim, plan.headDimV);
    if (unsupported) throw new SparseAttentionError('UNSUPPORTED', unsupported, { field: 'q.shape[3]' });
    return plan;
  }

  async function run(request: AttentionRequest, extra: { warmup?: number; iterations?: number }, signal?: AbortSignal) {
    const plan = validate(request);
    if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal');
    const binding = await ready();
    let kernel: NativePlan;
    try {
      kernel = binding.plan(code, plan.headDim, plan.headDimV, hasTopk(plan));
    } catch (e) {
      throw toSparseError(e);
    }
    const args = { ...packRequest(request, plan, kernel, cache, { precision: code, device }), ...extra };
    const call = binding.attention(args).catch((e: unknown) => {
      throw toSparseError(e);
    });
    const result = signal ? await raceAbort(call, signal) : await call;
    return { plan, kernel, args, result };
  }

  const backend: CudaNativeBackend = {
    name: 'cuda-native',
    precision,

    async probe(): Promise<ProbeResult> {
      if (disposed) return { available: false, reason: 'the backend was disposed' };
      const outcome = await load();
      if (!outcome.ok) return { available: false, reason: outcome.reason };
      try {
        const p = await outcome.binding.probe(device);
        const result: ProbeResult = { available: p.available };
        if (p.reason) result.reason = p.reason;
        if (p.device) result.device = `${p.device}, ${precision} storage`;
        return result;
      } catch (e) {
        return { available: false, reason: `probe failed: ${(e as Error).message}` };
      }
    },

    supports(request: AttentionRequest): true | string {
      if (disposed) return 'cuda-native: the backend was disposed';
      try {
        const plan = planAttention(request);
        return limits(plan.headDim, plan.headDimV) ?? true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : String(e);
      }
    },

    async attention(request: AttentionRequest, opts?: { signal?: AbortSignal }): Promise<AttentionResult> {
      const { plan, args } = await run(request, {}, opts?.signal);
      const out: AttentionResult = {
        out: { data: args.out, shape: shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) },
      };
      if (args.lse) out.lse = { data: args.lse, shape: [plan.batch, plan.headsQ, plan.seqQ] };
      return out;
    },

    async profile(request: AttentionRequest, opts: ProfileOptions = {}): Promise<ProfileResult> {
      const warmup = opts.warmup ?? 2;
      const iterations = opts.iterations ?? 10;
      if (!Number.isInteger(iterations) || iterations < 1)
        throw new SparseAttentionError('INVALID_ARGUMENT', `iterations: must be a positive integer (got ${String(iterations)})`, { field: 'iterations' });
      const { plan, kernel, result } = await run(request, { warmup, iterations });
      const sorted = [...result.iterationMs].sort((a, b) => a - b);
      const medianMs = sorted[Math.floor(sorted.length / 2)]!;
      const nnz = packedNnz(plan, cache, kernel);
      return {
        iterationMs: result.iterationMs,
        medianMs,
        minMs: sorted[0]!,
        nnz,
        tflops: (4 * nnz * plan.headDim) / (medianMs * 1e-3) / 1e12,
        kernel: KERNEL_NAMES[kernel.kernel] ?? String(kernel.kernel),
        blockQ: kernel.blockQ,
        blockK: kernel.blockK,
      };
    },

    async info() {
      const outcome = await load();
      if (!outcome.ok) return null;
      // liveTensors: resident tensors the addon holds, process-wide (every backend on that binary).
      return { path: outcome.path, source: outcome.source, build: outcome.binding.buildInfo(), liveTensors: outcome.binding.tensorCount() };
    },

    upload: (tensor, opts) => resident.upload(tensor, opts),
    empty: (shape, opts) => resident.empty(shape, opts),
    download: (tensor) => resident.download(tensor),
    cast: (tensor, dtype) => resident.cast(tensor, dtype),
    attentionResident: (request, opts) => resident.attentionResident(request, opts),
    liveTensors: () => resident.liveTensors(),

    async dispose(): Promise<void> {
      if (disposed) return;
      try {
        await resident.releaseAll();
      } finally {
        disposed = true;
        cache.clear();
      }
    },
  };
  // Resident tensors carry the backend that made them as their owner (they are not shared between backends).
  const resident = createResidentOps({ owner: backend, precision, device, cache, ready: () => ready(), limits });
  return backend;
}

function limits(D: number, Dv: number): string | null {
  if (D > 256) return `cuda-native: head dim D = ${D} is above the supported 256`;
  if (Dv > 256) return `cuda-native: value head dim Dv = ${Dv} is above the supported 256`;
  return null;
}
