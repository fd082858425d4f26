import { type AttentionPlan, SparseAttentionError } from '@sparse/core';
import { BlockMaskCache, type DeviceCode, defineBackend, type KitBackend } from '@sparse/core/backend';
import { checkPiece, copiedBytes } from './check.js';
import { type CpuWasmDevice, type CpuWasmRunInfo, describeDevice, deviceRunInfo, releaseDevice, startDevice } from './device.js';
import { type CpuWasmOptions, cpuWasmSettings } from './options.js';
import { type CompiledCall, PlanCache } from './plans.js';
import type { Platform } from './platform/types.js';
import { type ResidentOps, residentOps } from './resident.js';
import { type Fault, type PieceEnv, runPiece } from './run.js';
import { fitsStrided, runStrided } from './strided.js';
import { cpuWasmTolerance } from './tolerance.js';
import { translateFailure } from './translate.js';

export interface FaultDrills {
  /**
   * Fault drills (used by the tests, usable by anyone checking recovery): 'trap' makes the next call's kernel
   * read outside the memory (a real wasm trap); 'kill-worker' makes worker 0 exit during the next call. The call
   * fails with a SparseAttentionError and the call after it works.
   */
  injectFault(fault: Fault): void;
}

/**
 * The cpu-wasm Backend: lastRun() adds the device's figures (CpuWasmRunInfo); resident tensors and KV caches
 * (ResidentOps, docs/resident.md); the fault drills.
 */
export interface CpuWasmBackend extends KitBackend<CpuWasmRunInfo>, ResidentOps, FaultDrills {}

/** cpuWasm (documented in index.ts) on one platform: its device code, declared to the backend kit. */
export function createCpuWasm(platform: Platform, options: CpuWasmOptions = {}): CpuWasmBackend {
  const settings = cpuWasmSettings(options);
  const { tiles } = settings;
  const cache = new BlockMaskCache(settings.shared.maskCacheSize);
  const plans = new PlanCache(cache, tiles);
  // check() and run() of the same piece plan share its compiled call.
  let packed: { plan: AttentionPlan; compiled: CompiledCall } | null = null;
  let fault: Fault | null = null;
  const compiled = (plan: AttentionPlan) => {
    if (packed?.plan !== plan) packed = { plan, compiled: plans.get(plan) };
    return packed.compiled;
  };
  const env: PieceEnv = {
    tiles,
    plans,
    compiled,
    headTable: (plan) => compiled(plan).table,
    takeFault() {
      const f = fault;
      fault = null;
      return f;
    },
  };
  // Host calls count as running for the resident operations (they write the memory past the resident region).
  let track: <T>(p: Promise<T>) => Promise<T> = (p) => p;
  const device: DeviceCode<CpuWasmDevice, CpuWasmRunInfo> = {
    name: 'cpu-wasm',
    start: () => startDevice(platform, settings),
    describe: describeDevice,
    check: (plan, ctx) => checkPiece(plan, ctx, env),
    pieceBytes: (plan) => {
      const { keyBlocks } = compiled(plan);
      return copiedBytes(plan, keyBlocks ? keyBlocks.length * tiles.blockK : plan.seqK);
    },
    maxPieceBytes: settings.splitBytes,
    run: (ctx, request, plan, signal) => track(runPiece(ctx, request, plan, signal, env)),
    // A dilated call's residue groups read one copy of the inputs through strides.
    runStrided: (ctx, request, plan, pieces, signal) => track(runStrided(ctx, request, plan, pieces, signal, env)),
    fitsStrided: (plan, pieces, ctx) => fitsStrided(plan, pieces, ctx, env, settings.splitBytes),
    async release(ctx) {
      cache.clear();
      plans.clear();
      packed = null;
      await releaseDevice(ctx);
    },
    translate: translateFailure,
    // One memory: calls run one at a time.
    serial: true,
    tolerance: cpuWasmTolerance,
    runInfo: deviceRunInfo,
  };
  return defineBackend<CpuWasmDevice, CpuWasmRunInfo, ResidentOps & FaultDrills>(device, settings.shared, (kit, backend) => {
    const { track: tracked, ...ops } = residentOps(kit, { owner: backend, tiles, plans });
    track = tracked;
    return {
      ...ops,
      injectFault(f: Fault) {
        if (f !== 'trap' && f !== 'kill-worker')
          throw new SparseAttentionError('INVALID_ARGUMENT', `injectFault: must be "trap" or "kill-worker" (got ${String(f)})`, { field: 'fault' });
        fault = f;
      },
    };
  });
}
