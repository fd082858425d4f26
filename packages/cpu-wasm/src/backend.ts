import { type AttentionPlan, SparseAttentionError } from '@sparse/core';
import { BlockMaskCache, type DeviceCode, defineBackend, type HeadTable, type KitBackend, packHeadTable } from '@sparse/core/backend';
import { type CpuWasmDevice, type CpuWasmRunInfo, describeDevice, deviceRunInfo, releaseDevice, startDevice } from './device.js';
import { translateFailure } from './failure.js';
import { checkPiece, copiedBytes } from './limits.js';
import { type CpuWasmOptions, cpuWasmSettings } from './options.js';
import type { Platform } from './platform/types.js';
import { type Fault, type PieceEnv, runPiece } from './run.js';
import { cpuWasmTolerance } from './tolerance.js';

export interface FaultDrills {
  /**
   * Fault drills (used by the tests, usable by anyone checking recovery): 'trap' makes the next call's kernel
   * read outside the memory (a real wasm trap); 'kill-worker' makes worker 0 exit during the next call. The call
   * fails with a SparseAttentionError and the call after it works.
   */
  injectFault(fault: Fault): void;
}

/** The cpu-wasm Backend: lastRun() adds the device's figures (CpuWasmRunInfo); plus the fault drills. */
export interface CpuWasmBackend extends KitBackend<CpuWasmRunInfo>, FaultDrills {}

/** cpuWasm (documented in index.ts) on one platform: its device code, declared to the backend kit. */
export function createCpuWasm(platform: Platform, options: CpuWasmOptions = {}): CpuWasmBackend {
  const settings = cpuWasmSettings(options);
  const { tiles } = settings;
  const cache = new BlockMaskCache(settings.shared.maskCacheSize);
  // check() and run() of the same piece plan share its head table.
  let packed: { plan: AttentionPlan; table: HeadTable } | null = null;
  let fault: Fault | null = null;
  const env: PieceEnv = {
    tiles,
    headTable(plan) {
      if (packed?.plan !== plan) packed = { plan, table: packHeadTable(plan, cache, tiles) };
      return packed.table;
    },
    takeFault() {
      const f = fault;
      fault = null;
      return f;
    },
  };
  const device: DeviceCode<CpuWasmDevice, CpuWasmRunInfo> = {
    name: 'cpu-wasm',
    start: () => startDevice(platform, settings),
    describe: describeDevice,
    check: (plan, ctx) => checkPiece(plan, ctx, env),
    pieceBytes: copiedBytes,
    maxPieceBytes: settings.splitBytes,
    run: (ctx, request, plan, signal) => runPiece(ctx, request, plan, signal, env),
    async release(ctx) {
      cache.clear();
      packed = null;
      await releaseDevice(ctx);
    },
    translate: translateFailure,
    // One memory: calls run one at a time.
    serial: true,
    tolerance: cpuWasmTolerance,
    runInfo: deviceRunInfo,
  };
  return defineBackend<CpuWasmDevice, CpuWasmRunInfo, FaultDrills>(device, settings.shared, () => ({
    injectFault(f: Fault) {
      if (f !== 'trap' && f !== 'kill-worker')
        throw new SparseAttentionError('INVALID_ARGUMENT', `injectFault: must be "trap" or "kill-worker" (got ${String(f)})`, { field: 'fault' });
      fault = f;
    },
  }));
}
