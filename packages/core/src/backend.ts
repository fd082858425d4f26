import { BlockMaskCache } from './compile/blockmask.js';
import { fail, isSparseAttentionError, SparseAttentionError } from './errors.js';
import { toResult } from './reference/attention.js';
import { blockedAttention64 } from './reference/blocked.js';
import { type AttentionPlan, type AttentionRequest, type AttentionResult, planAttention } from './request.js';

export interface ProbeResult {
  available: boolean;
  /** Why the backend cannot run here, and what would fix it. */
  reason?: string;
  /** The device or runtime it runs on, in words. */
  device?: string;
}

/** The contract every backend implements (docs/design.md, "Backends and dispose"). */
export interface Backend {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  /** true, or a sentence saying why this request cannot run on this backend. */
  supports(request: AttentionRequest): true | string;
  attention(request: AttentionRequest, options?: { signal?: AbortSignal }): Promise<AttentionResult>;
  dispose(): Promise<void>;
}

export interface ReferenceBackendOptions {
  /** Tile sizes of the compiled masks it runs on (default 32 × 32). */
  blockQ?: number;
  blockK?: number;
  /** Largest working memory one call may use, in bytes (default 2 GiB); larger calls fail with RESOURCE_LIMIT. */
  maxMemoryBytes?: number;
}

/** Bytes the reference backend holds for one call: float64 out and lse, their float32 copies, cluster labels. */
export function referenceMemoryBytes(plan: AttentionPlan): number {
  const rows = plan.batch * plan.headsQ * plan.seqQ;
  const cluster = plan.patterns.some((p) => p.kind === 'cluster') ? plan.seqK * 4 : 0;
  return rows * plan.headDimV * 12 + rows * 12 + cluster;
}

function checkTile(value: unknown, field: string): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4096))
    fail('INVALID_ARGUMENT', field, 'must be an integer in [1, 4096]', value);
  return value;
}

/**
 * Core's reference backend: the BlockMask-driven fused loop in plain JavaScript with float64 accumulation.
 * Available everywhere; slow, exact, and the yardstick the conformance suite starts from.
 */
export function reference(options: ReferenceBackendOptions = {}): Backend {
  const tiles = { blockQ: checkTile(options.blockQ ?? 32, 'blockQ'), blockK: checkTile(options.blockK ?? 32, 'blockK') };
  const maxBytes = options.maxMemoryBytes ?? 2 ** 31;
  if (!(typeof maxBytes === 'number' && maxBytes > 0)) fail('INVALID_ARGUMENT', 'maxMemoryBytes', 'must be a positive number of bytes', maxBytes);
  const cache = new BlockMaskCache(16);
  let disposed = false;
  const disposedReason = 'reference: this backend was disposed; create a new one with reference()';
  /** The one check attention() and supports() share: a validated plan within the memory limit. */
  const plan = (request: AttentionRequest) => {
    if (disposed) throw new SparseAttentionError('BACKEND_UNAVAILABLE', disposedReason);
    const p = planAttention(request);
    const bytes = referenceMemoryBytes(p);
    if (bytes > maxBytes)
      throw new SparseAttentionError(
        'RESOURCE_LIMIT',
        `request: the reference backend would hold ${bytes} bytes for this call, over its limit of ${maxBytes} (maxMemoryBytes)`,
        { field: 'request' },
      );
    return p;
  };
  return {
    name: 'reference',
    async probe() {
      if (disposed) return { available: false, reason: disposedReason };
      return { available: true, device: 'JavaScript, float64 accumulation (single thread)' };
    },
    supports(request) {
      try {
        plan(request);
        return true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : String(e);
      }
    },
    async attention(request, opts) {
      const planned = plan(request);
      if (opts?.signal?.aborted) throw new SparseAttentionError('ABORTED', 'signal: the call was aborted by its AbortSignal', { field: 'signal' });
      return toResult(blockedAttention64(request, { tiles, cache, signal: opts?.signal, plan: planned }));
    },
    async dispose() {
      disposed = true;
      cache.clear();
    },
  };
}

export interface BackendChoice {
  name: string;
  available: boolean;
  reason?: string;
  device?: string;
}

export interface Selection {
  backend: Backend;
  /** Every candidate in order with its probe result, the chosen one included. */
  tried: BackendChoice[];
}

/**
 * Picks the first backend whose probe succeeds, keeping the reasons of the others (like onnxruntime's execution
 * providers). A probe that throws counts as unavailable with its message as the reason. The candidates that
 * were not chosen are disposed unless `keepOthers` is set.
 */
export async function selectBackend(candidates: readonly Backend[], options: { keepOthers?: boolean } = {}): Promise<Selection> {
  const tried: BackendChoice[] = [];
  let chosen: Backend | undefined;
  for (const backend of candidates) {
    if (chosen) {
      tried.push({ name: backend.name, available: false, reason: `not probed: ${chosen.name} was chosen first` });
      continue;
    }
    try {
      const r = await backend.probe();
      tried.push({ name: backend.name, ...r });
      if (r.available) chosen = backend;
    } catch (e) {
      tried.push({ name: backend.name, available: false, reason: `probe failed: ${(e as Error)?.message ?? String(e)}` });
    }
  }
  if (!options.keepOthers) await Promise.all(candidates.filter((b) => b !== chosen).map((b) => b.dispose().catch(() => undefined)));
  if (!chosen) {
    const lines = tried.map((t) => `${t.name}: ${t.reason ?? 'unavailable'}`).join('; ');
    throw new SparseAttentionError('BACKEND_UNAVAILABLE', `selectBackend: no backend is available (${lines || 'no candidates given'})`, {
      field: 'candidates',
    });
  }
  return { backend: chosen, tried };
}
