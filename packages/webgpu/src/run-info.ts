import type { BlockMaskStats, RunInfo } from '@sparse/core';
import type { DeviceContext } from './device.js';
import { maskSummary, type Prepared } from './prepare.js';

export interface RunStats {
  chunks: number;
  dispatches: number;
  submits: number;
}

/** A piece that ran: its plan for the device and what it took. */
export interface PieceRun {
  prepared: Prepared;
  stats: RunStats;
}

/** What the last call ran (lastRun()): core's fields, and the device's figures of its last piece. */
export interface WebGpuRunInfo extends RunInfo {
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

export type DeviceRunInfo = Omit<WebGpuRunInfo, keyof RunInfo>;

export function runInfo(ctx: DeviceContext): DeviceRunInfo {
  const p = ctx.last?.prepared;
  const s = ctx.last?.stats;
  return {
    software: ctx.software,
    blockQ: p?.cfg.BQ ?? 0,
    blockK: p?.cfg.BK ?? 0,
    threadsPerRow: p?.cfg.TPR ?? 0,
    chunks: s?.chunks ?? 0,
    dispatches: s?.dispatches ?? 0,
    submits: s?.submits ?? 0,
    masks: p ? maskSummary(p) : [],
    pipelinesCompiled: ctx.pipelines.compiled,
    buffersCreated: ctx.pool.created,
    buffersReused: ctx.pool.reused,
    buffersLive: ctx.pool.live,
  };
}
