import { sharedMemorySupport } from './env.js';
import { InlineRunner } from './inline.js';
import { compileKernel } from './loader.js';
import { createKernelMemory } from './memory.js';
import type { CpuWasmSettings } from './options.js';
import type { Platform } from './platform/types.js';
import { WorkerPool } from './pool.js';
import type { PieceStats } from './run.js';
import type { Runner } from './runner.js';

/** The device a cpuWasm() backend runs on: one memory and what runs the kernel over it. */
export interface CpuWasmDevice {
  runner: Runner;
  /** 'workers' (a pool over shared memory) or 'inline' (the calling thread). */
  mode: 'workers' | 'inline';
  /** Why it runs single-threaded, when it does. */
  fallbackReason?: string;
  /** Figures of the last piece it ran. */
  last: PieceStats | null;
}

/**
 * A new device: the worker pool over a shared memory where threads can share one, else the calling thread over
 * a plain memory. Every worker is started (and the kernel instantiated on it) before this resolves.
 */
export async function startDevice(platform: Platform, settings: CpuWasmSettings): Promise<CpuWasmDevice> {
  const support = sharedMemorySupport();
  if (!settings.inline && support.ok) {
    const threads = settings.threads ?? (await platform.defaultThreadCount());
    const module = await compileKernel(platform, true);
    const { memory, maxBytes } = createKernelMemory(true);
    const pool = new WorkerPool(platform, threads, module, memory, maxBytes);
    try {
      await pool.ready();
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return { runner: pool, mode: 'workers', last: null };
  }
  const fallbackReason = settings.inline ? 'inline: true was requested' : (support as { reason: string }).reason;
  const module = await compileKernel(platform, false);
  const { memory, maxBytes } = createKernelMemory(false);
  return { runner: new InlineRunner(module, memory, maxBytes), mode: 'inline', fallbackReason, last: null };
}

export function releaseDevice(device: CpuWasmDevice): Promise<void> {
  return device.runner.dispose();
}

export function describeDevice(device: CpuWasmDevice): string {
  const { runner } = device;
  return device.mode === 'workers'
    ? `WebAssembly SIMD128 (AssemblyScript), ${runner.threads} worker thread${runner.threads === 1 ? '' : 's'} over one shared memory`
    : `WebAssembly SIMD128 (AssemblyScript), single-threaded on the calling thread (${device.fallbackReason})`;
}

/** What lastRun() adds for cpu-wasm: the device, and the figures of the last piece the call ran. */
export interface CpuWasmRunInfo extends PieceStats {
  mode: 'workers' | 'inline';
  threads: number;
  /** Size of the WebAssembly memory now (it only grows, and is reused across calls). */
  memoryBytes: number;
  fallbackReason?: string;
}

export function deviceRunInfo(device: CpuWasmDevice): CpuWasmRunInfo | null {
  if (!device.last) return null;
  const info: CpuWasmRunInfo = { mode: device.mode, threads: device.runner.threads, memoryBytes: device.runner.memory.buffer.byteLength, ...device.last };
  if (device.fallbackReason) info.fallbackReason = device.fallbackReason;
  return info;
}
