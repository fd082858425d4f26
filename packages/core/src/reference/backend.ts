import type { Backend } from '../backend.js';
import { BlockMaskCache } from '../compile/blockmask.js';
import { fail } from '../errors.js';
import { defineBackend } from '../kit/define.js';
import { type BackendOptions, resolveOptions } from '../kit/options.js';
import type { AttentionPlan } from '../request.js';
import { toResult } from './attention.js';
import { blockedAttention64 } from './blocked.js';

export interface ReferenceBackendOptions extends BackendOptions {
  /** Largest working memory one call may use, in bytes (default 2 GiB); larger calls fail with RESOURCE_LIMIT. */
  maxMemoryBytes?: number;
}

/** Bytes the reference backend holds for one call: float64 out and lse, their float32 copies, cluster labels. */
export function referenceMemoryBytes(plan: AttentionPlan): number {
  const rows = plan.batch * plan.headsQ * plan.seqQ;
  const cluster = plan.patterns.some((p) => p.kind === 'cluster') ? plan.seqK * 4 : 0;
  return rows * plan.headDimV * 12 + rows * 12 + cluster;
}

/**
 * Core's reference backend: the BlockMask-driven fused loop in plain JavaScript with float64 accumulation.
 * Available everywhere; slow, exact, and the yardstick the conformance suite starts from. It is also the
 * smallest backend written on the kit (`@sparse/core/backend`): device code and nothing else.
 */
export function reference(options: ReferenceBackendOptions = {}): Backend {
  // The yardstick runs every call as one fused loop unless asked to partition.
  const shared = resolveOptions({ partitionDilation: false, ...options }, ['maxMemoryBytes']);
  const maxBytes = options.maxMemoryBytes ?? 2 ** 31;
  if (!(typeof maxBytes === 'number' && maxBytes > 0)) fail('INVALID_ARGUMENT', 'maxMemoryBytes', 'must be a positive number of bytes', maxBytes);
  const tiles = { blockQ: shared.tiles.blockQ ?? 32, blockK: shared.tiles.blockK ?? 32 };
  const cache = new BlockMaskCache(shared.maskCacheSize);
  return defineBackend(
    {
      name: 'reference',
      start: async () => cache,
      describe: () => 'JavaScript, float64 accumulation (single thread)',
      check(plan) {
        const bytes = referenceMemoryBytes(plan);
        if (bytes <= maxBytes) return null;
        return {
          code: 'RESOURCE_LIMIT',
          field: 'request',
          message: `request: the reference backend would hold ${bytes} bytes for this call, over its limit of ${maxBytes} (maxMemoryBytes)`,
        };
      },
      async run(cache, request, plan, signal) {
        return toResult(blockedAttention64(request, { tiles, cache, signal, plan }));
      },
      async release(cache) {
        cache.clear();
      },
    },
    shared,
  );
}
