import type { AttentionRequest } from '@sparse/core';
import {
  type AttentionPlan,
  type DeviceCode,
  defineBackend,
  fail,
  type KitBackend,
  ownedRequest,
  planAttention,
  type Refusal,
  throwRefusal,
} from '@sparse/core/backend';
import type { NativeBuildInfo } from './binding.js';
import { KERNEL_NAMES, refusal } from './check.js';
import { type CudaContext, describeDevice, releaseDevice, startDevice } from './device.js';
import { type LoadOutcome, loadBinding } from './loader.js';
import { type CudaNativeOptions, type Precision, type ResolvedCudaOptions, resolveCudaOptions } from './options.js';
import { headTable } from './pack.js';
import { type ResidentOps, residentOps } from './resident.js';
import { runPiece, startPiece } from './run.js';
import { toleranceFor } from './tolerance.js';
import { translateError } from './translate.js';

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

/** What lastRun() adds to the kit's fields for this backend. */
export interface CudaRunInfo {
  /** The kernel of the last piece: 'simt', 'mma64', 'mma128' or 'mma256'. */
  kernel: string;
  blockQ: number;
  blockK: number;
  precision: Precision;
  /** Where the addon was loaded from and how it was built. */
  addon: { path: string; source: string; build: NativeBuildInfo };
}

export interface CudaNativeBackend extends KitBackend<CudaRunInfo>, ResidentOps {
  readonly name: 'cuda-native';
  readonly precision: Precision;
  /** Runs a request several times on the GPU (inputs uploaded once) and times it with CUDA events. */
  profile(request: AttentionRequest, options?: ProfileOptions): Promise<ProfileResult>;
}

/** What viaResident() needs of a backend it wraps: the options it was made with and its check of a plan. */
export interface CudaInternals {
  options: ResolvedCudaOptions;
  check(plan: AttentionPlan, ctx: CudaContext | null): Refusal | null;
}

const internals = new WeakMap<object, CudaInternals>();

/** @internal the options and refusal of a backend made by cudaNative() (for viaResident). */
export function internalsOf(backend: object): CudaInternals | undefined {
  return internals.get(backend);
}

const NAME = 'cuda-native';

/**
 * The CUDA backend: fused block-sparse attention kernels in a Node-API addon. Host arrays in, host arrays out
 * (`attention`), or resident CudaTensors in and out (`upload`, `attentionResident`, `download`); the work runs on
 * libuv's worker threads, several calls may be in flight (each on its own CUDA stream).
 */
export function cudaNative(options: CudaNativeOptions = {}): CudaNativeBackend {
  const resolved = resolveCudaOptions(options);
  return createCudaNative(options, (device) => loadBinding({ binaryPath: resolved.binaryPath, isolate: resolved.isolateLoad, device }));
}

/** cudaNative() over a given way to load the addon (the tests pass the addon model). */
export function createCudaNative(options: CudaNativeOptions, loadAddon: (device: number) => Promise<LoadOutcome>): CudaNativeBackend {
  const resolved = resolveCudaOptions(options);
  const { precision, device, tiles } = resolved;
  // The addon is loaded (and checked in a child process) once per backend; each start probes the device again.
  let loading: Promise<LoadOutcome> | undefined;
  const load = () => {
    loading ??= loadAddon(device);
    return loading;
  };

  const check = (plan: AttentionPlan, ctx: CudaContext | null) => refusal(plan, ctx?.binding ?? null, precision, tiles);
  const refuse = (plan: AttentionPlan, ctx: CudaContext | null) => throwRefusal(check(plan, ctx));

  const code: DeviceCode<CudaContext, CudaRunInfo> = {
    name: NAME,
    start: () => startDevice(load, precision, device, resolved.shared.maskCacheSize),
    describe: describeDevice,
    check,
    run: runPiece,
    // The addon reads host operands on its worker thread, after run() returns: the kit hands run() private copies.
    readsLate: true,
    release: releaseDevice,
    translate: translateError,
    tolerance: (request) => toleranceFor(precision, request),
    runInfo: (ctx) =>
      ctx.last && {
        kernel: KERNEL_NAMES[ctx.last.kernel] ?? String(ctx.last.kernel),
        blockQ: ctx.last.blockQ,
        blockK: ctx.last.blockK,
        precision,
        addon: { path: ctx.path, source: ctx.source, build: ctx.build },
      },
  };

  const backend = defineBackend(code, resolved.shared, (kit, self) => ({
    name: NAME as 'cuda-native',
    precision,
    ...residentOps(kit, { name: NAME, owner: self, precision, refuse }),

    profile(request: AttentionRequest, opts: ProfileOptions = {}): Promise<ProfileResult> {
      return kit.gate(() => {
        const warmup = opts.warmup ?? 2;
        const iterations = opts.iterations ?? 10;
        if (!(Number.isInteger(iterations) && iterations >= 1)) fail('INVALID_ARGUMENT', 'iterations', 'must be a positive integer', iterations);
        if (!(Number.isInteger(warmup) && warmup >= 0)) fail('INVALID_ARGUMENT', 'warmup', 'must be an integer >= 0', warmup);
        const plan = planAttention(request);
        refuse(plan, kit.live());
        const owned = ownedRequest(request, plan);
        return kit.call(async (ctx) => {
          refuse(plan, ctx);
          const { kernel, result } = await startPiece(ctx, owned, plan, undefined, { warmup, iterations });
          const sorted = [...result.iterationMs].sort((a, b) => a - b);
          const medianMs = sorted[Math.floor(sorted.length / 2)]!;
          const nnz = headTable(plan, kernel, ctx.cache).nnz * plan.batch;
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
        });
      });
    },
  }));
  internals.set(backend, { options: resolved, check });
  return backend;
}
