import { sharedMemorySupport } from './env.js';
import { ResidentHeap } from './heap.js';
import { InlineRunner } from './inline.js';
import type { KernelBuild } from './instance.js';
import { chooseKernel, compileKernel } from './loader.js';
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
  /** The build of the kernel it runs, and why it is the SIMD128 one when it is. */
  kernel: KernelBuild;
  kernelReason?: string;
  /** Figures of the last piece it ran. */
  last: PieceStats | null;
  /** Resident tensors and KV caches in the memory, below the per-call arena. */
  heap: ResidentHeap;
  /** Set when the device is released (dispose, or lost): its resident tensors are gone with it. */
  released: boolean;
}

/**
 * A new device: the worker pool over a shared memory where threads can share one, else the calling thread over
 * a plain memory. Every worker is started (and the kernel instantiated on it) before this resolves.
 */
export async function startDevice(platform: Platform, settings: CpuWasmSettings): Promise<CpuWasmDevice> {
  const { build: kernel, reason: kernelReason } = chooseKernel(settings.kernel);
  const chosen = kernelReason ? { kernel, kernelReason } : { kernel };
  const support = sharedMemorySupport();
  if (!settings.inline && support.ok) {
    const threads = settings.threads ?? (await platform.defaultThreadCount());
    const module = await compileKernel(platform, true, kernel);
    const { memory, maxBytes } = createKernelMemory(true);
    const pool = new WorkerPool(platform, threads, module, memory, maxBytes);
    try {
      await pool.ready();
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return { runner: pool, mode: 'workers', ...chosen, last: null, heap: new ResidentHeap(), released: false };
  }
  const fallbackReason = settings.inline ? 'inline: true was requested' : (support as { reason: string }).reason;
  const module = await compileKernel(platform, false, kernel);
  const { memory, maxBytes } = createKernelMemory(false);
  return {
    runner: new InlineRunner(module, memory, maxBytes),
    mode: 'inline',
    fallbackReason,
    ...chosen,
    last: null,
    heap: new ResidentHeap(),
    released: false,
  };
}

export function releaseDevice(device: CpuWasmDevice): Promise<void> {
  device.released = true;
  return device.runner.dispose();
}

/** E.g. 'WebAssembly relaxed SIMD (AssemblyScript), 2 worker threads over one shared memory'. */
export function describeDevice(device: CpuWasmDevice): string {
  const { runner } = device;
  const kernel = device.kernel === 'relaxed' ? 'WebAssembly relaxed SIMD (AssemblyScript)' : `WebAssembly SIMD128 (AssemblyScript; ${device.kernelReason})`;
  return device.mode === 'workers'
    ? `${kernel}, ${runner.threads} worker thread${runner.threads === 1 ? '' : 's'} over one shared memory`
    : `${kernel}, single-threaded on the calling thread (${device.fallbackReason})`;
}

/** What lastRun() adds for cpu-wasm: the device, and the figures of the last piece the call ran. */
export interface CpuWasmRunInfo extends PieceStats {
  mode: 'workers' | 'inline';
  threads: number;
  /** Size of the WebAssembly memory now (it only grows, and is reused across calls). */
  memoryBytes: number;
  /** Bytes of the memory held by resident tensors and KV caches (the resident region, below the per-call arena). */
  residentBytes: number;
  fallbackReason?: string;
  /** The kernel build that ran: 'relaxed' (relaxed SIMD) or 'simd128'; kernelReason says why it is 'simd128'. */
  kernel: KernelBuild;
  kernelReason?: string;
}

export function deviceRunInfo(device: CpuWasmDevice): CpuWasmRunInfo | null {
  if (!device.last) return null;
  const info: CpuWasmRunInfo = {
    mode: device.mode,
    threads: device.runner.threads,
    memoryBytes: device.runner.memory.buffer.byteLength,
    residentBytes: device.heap.used,
    kernel: device.kernel,
    ...device.last,
  };
  if (device.fallbackReason) info.fallbackReason = device.fallbackReason;
  if (device.kernelReason) info.kernelReason = device.kernelReason;
  return info;
}
