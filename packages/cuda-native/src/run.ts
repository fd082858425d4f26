// One piece of a call on the device: the kernel the addon picks, the packed arguments, the addon's call.
import type { AttentionPlan, AttentionRequest, AttentionResult } from '@sparse/core';
import { abortedError, shapeOf } from '@sparse/core/backend';
import type { HostNativeArgs, NativePlan, NativeRunResult } from './binding.js';
import type { CudaContext } from './device.js';
import { PRECISION_CODE } from './options.js';
import { hasTopk, packRequest } from './pack.js';

export interface PieceRun {
  kernel: NativePlan;
  args: HostNativeArgs;
  result: NativeRunResult;
}

/**
 * Starts a piece on private copies of q, k and v (the kit's, as the device declares `readsLate`; profile() takes
 * its own). `timing` asks the addon for untimed and timed repetitions (profile()).
 */
export function startPiece(
  ctx: CudaContext,
  request: AttentionRequest,
  plan: AttentionPlan,
  signal: AbortSignal | undefined,
  timing: { warmup?: number; iterations?: number } = {},
): Promise<PieceRun> {
  const code = PRECISION_CODE[ctx.precision];
  const kernel = ctx.binding.plan(code, plan.headDim, plan.headDimV, hasTopk(plan));
  const args = { ...packRequest(request, plan, kernel, ctx.cache, { precision: code, device: ctx.device }), ...timing };
  const call = ctx.binding.attention(args);
  ctx.last = kernel;
  const done = call.then((result) => ({ kernel, args, result }));
  return signal ? raceAbort(done, signal) : done;
}

/** The device code's run(): one piece, host arrays in and out. */
export async function runPiece(ctx: CudaContext, request: AttentionRequest, plan: AttentionPlan, signal: AbortSignal | undefined): Promise<AttentionResult> {
  const { args } = await startPiece(ctx, request, plan, signal);
  const result: AttentionResult = { out: { data: args.out, shape: shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV) } };
  if (args.lse) result.lse = { data: args.lse, shape: [plan.batch, plan.headsQ, plan.seqQ] };
  return result;
}

/** Rejects with ABORTED when the signal fires first; the GPU work itself finishes in the background. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
