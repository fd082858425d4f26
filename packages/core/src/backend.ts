import { SparseAttentionError } from './errors.js';
import type { AttentionRequest, AttentionResult } from './request.js';
import type { Tolerance } from './tolerance.js';

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
  /** The tolerance its results meet against the float64 reference (for this request, where it depends on it). */
  tolerance(request?: AttentionRequest): Tolerance;
  /** What the last call ran, or null before the first. */
  lastRun(): RunInfo | null;
  /** Final and idempotent: calls already made finish, later calls fail with BACKEND_UNAVAILABLE, the device is freed. */
  dispose(): Promise<void>;
}

/** What the last call ran: the same fields on every backend, plus each backend's own. */
export interface RunInfo {
  backend: string;
  /** The device in words (as probe() says it). */
  device: string;
  /** Pieces the call ran as (residue groups of a partitioned dilation, memory-bounded head groups). */
  pieces: number;
  /** Wall time of the call, in milliseconds. */
  ms: number;
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
