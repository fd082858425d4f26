import { BlockMaskCache, SparseAttentionError } from '@sparse/core';
import type { TfjsSettings } from './options.js';
import { PlanCache } from './plan-cache.js';
import type { TF } from './types.js';

/** What the last piece ran with (merged into lastRun()). */
export interface TfjsRunInfo {
  /** The tf.js backend the ops ran on. */
  tfBackend: string;
  strategy: 'batched' | 'plain';
  take: 'slice' | 'gatherNd';
  /** Groups of query heads that share a compiled mask, and the chunks of query blocks they ran as. */
  headGroups: number;
  chunks: number;
}

/** One start of the backend: the ready tf.js namespace and what this start caches. */
export interface TfContext {
  tf: TF;
  /** The tf.js backend every call switches to, or null: whichever is active at the call. */
  pinned: string | null;
  /** Compiled masks (maskCacheSize of them) and the chunk plans derived from them. */
  masks: BlockMaskCache;
  plans: PlanCache;
  last: TfjsRunInfo | null;
}

const KNOWN_PACKAGES: Record<string, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

function unavailable(message: string, cause?: unknown): SparseAttentionError {
  return new SparseAttentionError('BACKEND_UNAVAILABLE', message, { field: 'backendName', cause });
}

/** tf.js, with the named (or default) tf.js backend registered, initialised and active. */
export async function start(settings: TfjsSettings): Promise<TfContext> {
  let tf = settings.tf;
  if (!tf) {
    try {
      tf = (await import('@tensorflow/tfjs-core')) as unknown as TF;
    } catch (e) {
      throw unavailable('tfjs: @tensorflow/tfjs-core is not installed (it is a peer dependency: npm install @tensorflow/tfjs-core)', e);
    }
  }
  let name = settings.backendName;
  if (!name && !Object.keys(KNOWN_PACKAGES).some((n) => tf.findBackendFactory(n))) {
    // No tf.js backend registered at all (a bare Node process): take wasm, else cpu, from the installed packages.
    for (const candidate of ['wasm', 'cpu']) {
      try {
        await import(KNOWN_PACKAGES[candidate]!);
        name = candidate;
        break;
      } catch {
        // not installed: try the next
      }
    }
  }
  if (name && tf.getBackend() !== name) {
    if (!tf.findBackendFactory(name) && KNOWN_PACKAGES[name]) {
      try {
        await import(KNOWN_PACKAGES[name]!);
      } catch (e) {
        throw unavailable(`tfjs: tf.js backend "${name}" is not registered and ${KNOWN_PACKAGES[name]} could not be imported`, e);
      }
    }
    if (!tf.findBackendFactory(name)) throw unavailable(`tfjs: tf.js backend "${name}" is not registered (import its package first)`);
    let ok = false;
    try {
      ok = await tf.setBackend(name);
    } catch (e) {
      throw unavailable(`tfjs: tf.js backend "${name}" failed to initialise: ${(e as Error)?.message ?? String(e)}`, e);
    }
    if (!ok) throw unavailable(`tfjs: tf.js backend "${name}" failed to initialise`);
  }
  await tf.ready();
  return { tf, pinned: settings.backendName ?? null, masks: new BlockMaskCache(settings.shared.maskCacheSize), plans: new PlanCache(), last: null };
}

export async function release(ctx: TfContext): Promise<void> {
  ctx.masks.clear();
  ctx.last = null;
}

export function describe(ctx: TfContext): string {
  const { tf } = ctx;
  return `TensorFlow.js ${tf.version_core} on the "${tf.getBackend()}" backend (float${tf.backend().floatPrecision()})`;
}

/**
 * Makes the pinned tf.js backend active again if the app switched away. Returns null when it is active now:
 * tf.js switches at once to a backend it has initialised (start() did), so only a backend removed and
 * registered again since waits for its initialisation.
 */
export function activate(ctx: TfContext): Promise<void> | null {
  const { tf, pinned } = ctx;
  if (pinned === null || tf.getBackend() === pinned) return null;
  const initialised = tf.findBackend(pinned) !== null;
  const switching = tf.setBackend(pinned).then(
    (ok) => {
      if (!ok) throw unavailable(`tfjs: tf.js backend "${pinned}" failed to initialise`);
    },
    (e: unknown) => {
      throw unavailable(`tfjs: tf.js backend "${pinned}" is no longer registered: ${(e as Error)?.message ?? String(e)}`, e);
    },
  );
  if (!initialised) return switching;
  switching.catch(() => undefined);
  return null;
}

/** The tf.js backend calls run on: the named one, else the active one, else the one start() would pick first. */
export function runsOn(settings: TfjsSettings, ctx: TfContext | null): string {
  const tf = ctx?.tf ?? settings.tf;
  return settings.backendName ?? (tf ? tf.engine().backendName : null) ?? 'wasm';
}
