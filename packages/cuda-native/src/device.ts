// The device context: the loaded addon, the probe of the CUDA device, the compiled-mask cache and the resident
// tensors made on it. start() makes a fresh one (the addon itself is loaded once per backend); release() frees
// exactly what that one holds.
import { BlockMaskCache } from '@sparse/core';
import type { NativeBinding, NativeBuildInfo, NativePlan, NativeProbe } from './binding.js';
import type { LoadOutcome } from './loader.js';
import type { Precision } from './options.js';
import type { CudaTensor } from './tensor.js';
import { toSparseError } from './translate.js';

export interface CudaContext {
  binding: NativeBinding;
  /** Where the addon was loaded from, and how. */
  path: string;
  source: string;
  build: NativeBuildInfo;
  probe: NativeProbe;
  precision: Precision;
  device: number;
  cache: BlockMaskCache;
  /** Resident tensors made on this context and not yet disposed, by id. */
  tensors: Map<number, WeakRef<CudaTensor>>;
  /** Set by release(): work still finishing on it frees what it makes. */
  released: boolean;
  /** The kernel the last piece ran on (lastRun()). */
  last: NativePlan | null;
}

/** Loads the addon (once: `load` caches it), then probes the device; throws the reason when it is unavailable. */
export async function startDevice(load: () => Promise<LoadOutcome>, precision: Precision, device: number, maskCacheSize: number): Promise<CudaContext> {
  const outcome = await load();
  if (!outcome.ok) throw new Error(outcome.reason);
  const probe = await outcome.binding.probe(device);
  if (!probe.available) throw new Error(`${probe.reason ?? `CUDA device ${device} is unavailable`} (addon: ${outcome.source}, ${outcome.path})`);
  return {
    binding: outcome.binding,
    path: outcome.path,
    source: outcome.source,
    build: outcome.binding.buildInfo(),
    probe,
    precision,
    device,
    cache: new BlockMaskCache(maskCacheSize),
    tensors: new Map(),
    released: false,
    last: null,
  };
}

/** The device in words (probe().device and lastRun().device). */
export function describeDevice(ctx: CudaContext): string {
  const b = ctx.build;
  const cuda = b.cudaRuntime ? `CUDA ${Math.floor(b.cudaRuntime / 1000)}.${Math.floor((b.cudaRuntime % 1000) / 10)}` : 'CUDA';
  return `${ctx.probe.device ?? `CUDA device ${ctx.device}`}, ${ctx.precision} storage (addon: ${ctx.source}, ${cuda}, sm ${b.archs})`;
}

/**
 * Frees every resident tensor made on the context (each once the work queued on it is done; tensors that work
 * makes meanwhile too) and the mask cache. The first failure is thrown once all were tried.
 */
export async function releaseDevice(ctx: CudaContext): Promise<void> {
  ctx.released = true;
  const failures: unknown[] = [];
  while (ctx.tensors.size > 0) {
    const tensors = [...ctx.tensors.entries()].map(([id, ref]) => [id, ref.deref()] as const);
    for (const [id, t] of tensors) if (!t) ctx.tensors.delete(id); // collected: the FinalizationRegistry releases it
    await Promise.all(
      tensors.map(([, t]) =>
        t?.dispose().catch((e: unknown) => {
          failures.push(e);
        }),
      ),
    );
  }
  ctx.cache.clear();
  if (failures.length > 0) throw toSparseError(failures[0]);
}
