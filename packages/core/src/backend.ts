import { BlockMaskCache } from './compile/blockmask.js';
import { isSparseAttentionError, SparseAttentionError } from './errors.js';
import { toResult } from './reference/attention.js';
import { blockedAttention64 } from './reference/blocked.js';
import { type AttentionRequest, type AttentionResult, planAttention } from './request.js';

export interface ProbeResult {
  available: boolean;
  /** Why the backend cannot run here, and what would fix it. */
  reason?: string;
  /** The device or runtime it runs on, in words. */
  device?: string;
}

/** The contract every backend implements (DESIGN §5). */
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
}

/**
 * Core's reference backend: the BlockMask-driven fused loop in plain JavaScript with float64 accumulation.
 * Available everywhere; slow, exact, and the yardstick the conformance suite starts from.
 */
export function reference(options: ReferenceBackendOptions = {}): Backend {
  const cache = new BlockMaskCache(16);
  const tiles = { blockQ: options.blockQ ?? 32, blockK: options.blockK ?? 32 };
  return {
    name: 'reference',
    async probe() {
      return { available: true, device: 'JavaScript, float64 accumulation (single thread)' };
    },
    supports(request) {
      try {
        planAttention(request);
        return true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : String(e);
      }
    },
    async attention(request, opts) {
      if (opts?.signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal');
      return toResult(blockedAttention64(request, { tiles, cache, signal: opts?.signal }));
    },
    async dispose() {
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
