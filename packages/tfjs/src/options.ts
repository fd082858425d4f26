import { type BackendOptions, fail, type ResolvedOptions, resolveOptions, type TileLimits } from '@sparse/core/backend';
import type { Strategy, TakeMode, TF } from './types.js';

export interface TfjsBackendOptions extends BackendOptions {
  /** The tf.js namespace to use (default: `import('@tensorflow/tfjs-core')`, the peer dependency). */
  tf?: TF;
  /**
   * The tf.js backend to run on ('cpu', 'wasm', 'webgl', 'webgpu', …; default: whichever is active, or, when no
   * backend is registered at all, wasm else cpu from the installed packages). When it is not registered yet,
   * the first call imports `@tensorflow/tfjs-backend-<name>` if that package is installed. tf.js has one active
   * backend per namespace: each call switches to this one if another is active.
   */
  backendName?: string;
  /**
   * Most score elements (batch · heads · rows · listed keys) one batch of query blocks may hold; larger work is
   * split into several batches, which bounds peak memory (default 2^20 = 4 MiB of float32 scores).
   */
  maxScoreElements?: number;
  /** How query blocks share matrix products (default 'auto'). */
  strategy?: Strategy;
  /** How blocks are read (default: 'slice' on cpu, 'gatherNd' elsewhere). */
  take?: TakeMode;
}

export const DEFAULT_TILE = 64;
export const DEFAULT_MAX_SCORE_ELEMENTS = 1 << 20;

const OWN_KEYS = ['tf', 'backendName', 'maxScoreElements', 'strategy', 'take'];
const TILE_LIMITS: TileLimits = { blockQ: [1, 4096], blockK: [1, 4096] };

/** What a tfjs backend runs with, every option validated and defaulted (`take` is chosen per tf.js backend when unset). */
export interface TfjsSettings {
  shared: ResolvedOptions;
  tf: TF | undefined;
  backendName: string | undefined;
  tiles: { blockQ: number; blockK: number };
  maxElements: number;
  strategy: Strategy;
  take: TakeMode | undefined;
}

/** Validates every option at construction: INVALID_ARGUMENT naming the field (unknown names included). */
export function resolveTfjsOptions(options: TfjsBackendOptions | undefined): TfjsSettings {
  const shared = resolveOptions(options, OWN_KEYS, TILE_LIMITS);
  const o = options ?? {};
  if (o.tf !== undefined && (typeof o.tf !== 'object' || o.tf === null || typeof o.tf.tensor !== 'function'))
    fail('INVALID_ARGUMENT', 'tf', 'must be a tf.js namespace (import * as tf from "@tensorflow/tfjs-core")', o.tf);
  if (o.backendName !== undefined && (typeof o.backendName !== 'string' || o.backendName === ''))
    fail('INVALID_ARGUMENT', 'backendName', 'must be the name of a tf.js backend', o.backendName);
  const maxElements = o.maxScoreElements ?? DEFAULT_MAX_SCORE_ELEMENTS;
  if (typeof maxElements !== 'number' || !Number.isFinite(maxElements) || maxElements < 1)
    fail('INVALID_ARGUMENT', 'maxScoreElements', 'must be a positive number', maxElements);
  const strategy = o.strategy ?? 'auto';
  if (strategy !== 'auto' && strategy !== 'batched' && strategy !== 'plain')
    fail('INVALID_ARGUMENT', 'strategy', 'must be "auto", "batched" or "plain"', strategy);
  if (o.take !== undefined && o.take !== 'slice' && o.take !== 'gatherNd') fail('INVALID_ARGUMENT', 'take', 'must be "slice" or "gatherNd"', o.take);
  return {
    shared,
    tf: o.tf,
    backendName: o.backendName,
    tiles: { blockQ: shared.tiles.blockQ ?? DEFAULT_TILE, blockK: shared.tiles.blockK ?? DEFAULT_TILE },
    maxElements,
    strategy,
    take: o.take,
  };
}
