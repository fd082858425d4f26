import type { TileOptions } from '@sparse/core';
import { type KernelConfig, workgroupBytes } from './wgsl/config.js';

/** The device limits the backend plans with (a subset of GPUSupportedLimits). */
export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  minStorageBufferOffsetAlignment: number;
}

/** WebGPU's default limits: what every adapter offers at least. */
export const DEFAULT_LIMITS: DeviceLimits = {
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  minStorageBufferOffsetAlignment: 256,
};

export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as (keyof DeviceLimits)[];

export function readLimits(limits: GPUSupportedLimits): DeviceLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const name of LIMIT_NAMES) {
    const v = (limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = v;
  }
  return out;
}

/** Applies caller overrides, never above what the device has. */
export function clampLimits(device: DeviceLimits, overrides: Partial<DeviceLimits> | undefined): DeviceLimits {
  const out = { ...device };
  if (!overrides) return out;
  for (const name of LIMIT_NAMES) {
    const v = overrides[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) continue;
    out[name] = name === 'minStorageBufferOffsetAlignment' ? Math.max(v, device[name]) : Math.min(v, device[name]);
  }
  return out;
}

/** Threads per query row: enough that each thread's q slice and accumulator stay around 32 registers. */
function threadsPerRow(D: number, Dv: number): number {
  const m = Math.max(D, Dv);
  if (m <= 128) return 4;
  if (m <= 256) return 8;
  return 16;
}

/**
 * Picks the kernel configuration for head dims (D, Dv) under the device limits: the largest key block (≤ 32)
 * whose staged tiles fit in workgroup memory, and the radix width of the top-k passes. Returns a sentence
 * instead when nothing fits (the caller turns it into RESOURCE_LIMIT or a `supports` answer).
 */
export function chooseConfig(D: number, Dv: number, limits: DeviceLimits, tiles: TileOptions, needTopk: boolean): KernelConfig | string {
  let TPR = threadsPerRow(D, Dv);
  const BQ = tiles.blockQ ?? 16;
  const maxThreads = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  while (TPR > 4 && BQ * TPR > maxThreads) TPR >>= 1;
  if (BQ * TPR > maxThreads)
    return `tiles.blockQ = ${BQ} needs ${BQ * TPR} invocations per workgroup; the device allows ${maxThreads} (maxComputeInvocationsPerWorkgroup)`;
  const candidates = tiles.blockK !== undefined ? [tiles.blockK] : [32, 16, 8, 4, 2, 1];
  const cap = limits.maxComputeWorkgroupStorageSize;
  let smallest = Infinity;
  for (const BK of candidates) {
    for (const RB of needTopk ? [8, 4] : [8]) {
      const c: KernelConfig = { D, Dv, BQ, BK, TPR, RB };
      const w = workgroupBytes(c);
      const need = needTopk ? Math.max(w.main, w.hist) : w.main;
      smallest = Math.min(smallest, need);
      if (need <= cap) return c;
    }
  }
  return `head dims D = ${D}, Dv = ${Dv} need ${smallest} bytes of workgroup memory even with the smallest key block; the device allows ${cap} (maxComputeWorkgroupStorageSize)`;
}
