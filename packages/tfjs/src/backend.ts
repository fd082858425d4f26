import { BlockMaskCache } from '@sparse/core';
import { type DeviceCode, defineBackend, type Kit, type KitBackend } from '@sparse/core/backend';
import { checkHeap } from './check.js';
import { callWork } from './compute.js';
import { describe, release, runsOn, start, type TfContext, type TfjsRunInfo } from './device.js';
import { resolveTfjsOptions, type TfjsBackendOptions } from './options.js';
import { PlanCache } from './plan-cache.js';
import { residentEntry, type TfjsResident } from './resident.js';
import { runPiece } from './run.js';
import { toleranceFor } from './tolerance.js';
import { typedFailure } from './translate.js';

/** The portable Backend of @sparse/core on tf.js, plus tf.Tensors in and out (attentionResident). */
export type TfjsBackend = KitBackend<TfjsRunInfo> & TfjsResident;

/** Sparse attention computed by tf.js ops on the chosen tf.js backend (name 'tfjs'): host arrays or tf.Tensors. */
export function tfjs(options: TfjsBackendOptions = {}): TfjsBackend {
  const settings = resolveTfjsOptions(options);
  let kit: Kit<TfContext> | null = null;
  // Before the first start, the estimate compiles masks into caches of its own.
  let spare: { masks: BlockMaskCache; plans: PlanCache } | null = null;
  const check = (plan: Parameters<typeof checkHeap>[1], ctx: TfContext | null) => {
    const name = runsOn(settings, ctx);
    if (name !== 'wasm') return null;
    const caches = ctx ?? (spare ??= { masks: new BlockMaskCache(settings.shared.maskCacheSize), plans: new PlanCache() });
    return checkHeap(name, plan, settings.maxElements, callWork(caches, settings, plan, name));
  };
  const device: DeviceCode<TfContext, TfjsRunInfo> = {
    name: 'tfjs',
    start: () => start(settings),
    describe,
    check,
    run: (ctx, request, plan, signal) => runPiece(ctx, settings, request, plan, signal),
    release,
    translate: (e) => typedFailure(e),
    tolerance() {
      // The tf.js backend's own precision once it runs; before, float32, or half floats for webgl, whose
      // precision only its initialisation tells.
      const ctx = kit?.live() ?? null;
      const name = runsOn(settings, ctx);
      const tf = ctx?.tf ?? settings.tf;
      const active = tf && tf.engine().backendName === name ? tf.backend().floatPrecision() : undefined;
      return toleranceFor(name, active ?? (name === 'webgl' ? 16 : 32));
    },
    runInfo: (ctx) => ctx.last,
  };
  return defineBackend(device, settings.shared, (k) => {
    kit = k;
    return residentEntry(k, settings, check);
  });
}
