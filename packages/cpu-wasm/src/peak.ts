import { instantiateKernel, type KernelBuild } from './instance.js';
import { chooseKernel, compileKernel } from './loader.js';
import type { KernelOption } from './options.js';
import type { Platform } from './platform/types.js';

export interface SimdPeakOptions {
  /** Milliseconds in total over the repeats (default 600). */
  durationMs?: number;
  /** Short runs; the best counts (default 15). */
  repeats?: number;
  /**
   * Whose peak: the relaxed build's (f32x4.relaxed_madd) or the SIMD128 build's (f32x4.mul then f32x4.add), chosen
   * as cpuWasm()'s `kernel` option chooses (default 'auto'; a forced 'relaxed' rejects with BACKEND_UNAVAILABLE where
   * the engine lacks relaxed SIMD).
   */
  kernel?: KernelOption;
}

export interface SimdPeak {
  /** The kernel build measured. */
  kernel: KernelBuild;
  /** Best f32 GFLOP/s of one thread over the repeats. */
  gflops: number;
  /** Every repeat's GFLOP/s, in order. */
  runs: number[];
  /** Flops counted per loop iteration (12 independent f32x4 multiply-adds, 8 flops each). */
  flopsPerIteration: number;
  iterations: number;
}

/** measureSimdPeak (documented in index.ts) on one platform. */
export async function measureSimdPeakOn(platform: Platform, options: SimdPeakOptions = {}): Promise<SimdPeak> {
  const durationMs = options.durationMs ?? 600;
  const repeats = Math.max(1, options.repeats ?? 15);
  const { build } = chooseKernel(options.kernel ?? 'auto');
  const kernel = instantiateKernel(await compileKernel(platform, false, build), new WebAssembly.Memory({ initial: 2, maximum: 2 }));
  const fpi = kernel.PEAK_FLOPS_PER_ITER.value as number;
  let iters = 1 << 16;
  // Warm-up and calibration: grow the count until one run takes ~5 ms.
  for (;;) {
    const t = performance.now();
    kernel.peak(iters, 0.999999, 1e-6);
    const dt = performance.now() - t;
    if (dt > 5 || iters >= 1 << 30) {
      iters = Math.max(1, Math.min(2 ** 30, Math.round((iters * (durationMs / repeats)) / Math.max(dt, 0.01))));
      break;
    }
    iters *= 2;
  }
  const runs: number[] = [];
  let sink = 0;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    sink += kernel.peak(iters, 0.999999, 1e-6);
    const s = (performance.now() - t) / 1000;
    runs.push((iters * fpi) / s / 1e9);
  }
  if (Number.isNaN(sink)) runs.push(0);
  return { kernel: build, gflops: Math.max(...runs), runs, flopsPerIteration: fpi, iterations: iters };
}
