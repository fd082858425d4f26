import {
  type AttentionPlan,
  type AttentionRequest,
  type AttentionResult,
  type Backend,
  BlockMaskCache,
  isSparseAttentionError,
  SparseAttentionError,
} from '@sparse/core';
import { attendByResidue, ownedRequest, planAttention, shapeOf } from '@sparse/core/backend';

import { checkComputeOptions, checkHeap, runPlanned } from './resident.js';
import { type Tolerance, toleranceFor } from './tolerance.js';
import type { ComputeOptions, Tensor, TF } from './types.js';

export interface TfjsBackendOptions extends Omit<ComputeOptions, 'cache'> {
  /** The tf.js namespace to use (default: `import('@tensorflow/tfjs-core')`, the peer dependency). */
  tf?: TF;
  /**
   * The tf.js backend to run on ('cpu', 'wasm', 'webgl', 'webgpu', …; default: whichever is active, or, when no
   * backend is registered at all, wasm else cpu from the installed packages). When it is not registered yet,
   * probe imports `@tensorflow/tfjs-backend-<name>` if that package is installed. tf.js has one active backend
   * per namespace: each call switches to this one if another is active.
   */
  backendName?: string;
  /**
   * Run a host call whose heads are all `dilated` (or dilated `neighborhood`) with one dilation d as d calls on
   * the residue groups with the undilated pattern (default true; core's residuePartition). The resident
   * `sparseAttention` does not partition.
   */
  partitionDilation?: boolean;
}

/** The portable Backend of @sparse/core on tf.js, plus the tolerance it declares for the active tf.js backend. */
export interface TfjsBackend extends Backend {
  /**
   * Tolerance for the tf.js backend the calls run on: the active one once probed; before, the named (or default)
   * backend at float32, or at half floats for webgl, whose precision only its initialisation tells.
   */
  tolerance(): Tolerance;
}

const KNOWN_PACKAGES: Record<string, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

/** An error from tf.js during a call, typed: out of memory is RESOURCE_LIMIT, anything else INTERNAL. */
function typedFailure(e: unknown): SparseAttentionError {
  if (isSparseAttentionError(e)) return e;
  const message = (e as Error)?.message ?? String(e);
  if (/out of memory|\bOOM\b|failed to allocate|allocation failed/i.test(message))
    return new SparseAttentionError('RESOURCE_LIMIT', `tfjs: tf.js ran out of memory during the call: ${message}`, { cause: e });
  return new SparseAttentionError('INTERNAL', `tfjs: tf.js failed during the call: ${message} (a bug: please report it)`, { cause: e });
}

function unavailable(message: string, cause?: unknown): SparseAttentionError {
  return new SparseAttentionError('BACKEND_UNAVAILABLE', message, { field: 'backendName', cause });
}

const DISPOSED = 'tfjs: the backend was disposed';

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SparseAttentionError('ABORTED', 'signal: the call was aborted by its AbortSignal', { field: 'signal' });
}

/** Host arrays in, host arrays out, computed by tf.js ops on the chosen tf.js backend (name 'tfjs'). */
export function tfjs(options: TfjsBackendOptions = {}): TfjsBackend {
  if (options.partitionDilation !== undefined && typeof options.partitionDilation !== 'boolean')
    throw new SparseAttentionError('INVALID_ARGUMENT', `partitionDilation: must be a boolean (got ${String(options.partitionDilation)})`, {
      field: 'partitionDilation',
    });
  checkComputeOptions(options);
  const cache = new BlockMaskCache(16);
  let tf: TF | undefined = options.tf;
  let disposed = false;

  async function ready(): Promise<TF> {
    if (disposed) throw unavailable(DISPOSED);
    if (!tf) {
      try {
        tf = (await import('@tensorflow/tfjs-core')) as unknown as TF;
      } catch (e) {
        throw unavailable('tfjs: @tensorflow/tfjs-core is not installed (it is a peer dependency: npm install @tensorflow/tfjs-core)', e);
      }
    }
    let name = options.backendName;
    if (!name && !Object.keys(KNOWN_PACKAGES).some((n) => tf!.findBackendFactory(n))) {
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
    return tf;
  }

  /** The tf.js backend calls run on: the named one, else the active one, else the one ready() would pick first. */
  const runsOn = (): string => options.backendName ?? (tf ? tf.engine().backendName : null) ?? 'wasm';

  /** The one resource estimate of supports() and attention(): throws RESOURCE_LIMIT. */
  const checkResources = (plan: AttentionPlan): void => checkHeap(runsOn(), plan, options.maxScoreElements);

  /** One host call: upload, the tf.js ops, read back (every tensor disposed). */
  async function attendHost(t: TF, request: AttentionRequest, plan: AttentionPlan, aborted: () => void): Promise<AttentionResult> {
    checkHeap(t.getBackend(), plan, options.maxScoreElements); // before uploading anything
    const tensors: Tensor[] = [];
    try {
      const upload = (x: { data: Float32Array; shape: readonly number[] }) => {
        const tensor = t.tensor(x.data, [...x.shape], 'float32');
        tensors.push(tensor);
        return tensor;
      };
      const r = runPlanned(t, { q: upload(request.q), k: upload(request.k), v: upload(request.v), pattern: request.pattern }, plan, { ...options, cache });
      tensors.push(r.out);
      if (r.lse) tensors.push(r.lse);
      const out = (await r.out.data()) as Float32Array;
      const lse = r.lse ? ((await r.lse.data()) as Float32Array) : undefined;
      aborted();
      const { batch, headsQ, seqQ, headDimV, layout } = plan;
      return {
        out: { data: out, shape: shapeOf(layout, batch, headsQ, seqQ, headDimV) },
        ...(lse ? { lse: { data: lse, shape: [batch, headsQ, seqQ] } } : {}),
      };
    } finally {
      for (const x of tensors) x.dispose();
    }
  }

  return {
    name: 'tfjs',
    async probe() {
      try {
        const t = await ready();
        return {
          available: true,
          device: `TensorFlow.js ${t.version_core} on the "${t.getBackend()}" backend (float${t.backend().floatPrecision()})`,
        };
      } catch (e) {
        return { available: false, reason: (e as Error)?.message ?? String(e) };
      }
    },
    supports(request) {
      if (disposed) return DISPOSED;
      try {
        checkResources(planAttention(request));
        return true;
      } catch (e) {
        return isSparseAttentionError(e) ? e.message : String(e);
      }
    },
    tolerance() {
      const name = runsOn();
      const active = tf && tf.engine().backendName === name ? tf.backend().floatPrecision() : undefined;
      return toleranceFor(name, active ?? (name === 'webgl' ? 16 : 32));
    },
    attention(request: AttentionRequest, opts?: { signal?: AbortSignal }): Promise<AttentionResult> {
      // Everything that reads the request happens before the promise is returned.
      let owned: AttentionRequest;
      let plan: AttentionPlan;
      try {
        if (disposed) throw unavailable(DISPOSED);
        checkSignal(opts?.signal);
        plan = planAttention(request);
        checkResources(plan);
        owned = ownedRequest(request, plan);
      } catch (e) {
        return Promise.reject(e);
      }
      const aborted = () => checkSignal(opts?.signal);
      return (async () => {
        let t: TF;
        try {
          t = await ready();
        } catch (e) {
          throw isSparseAttentionError(e) ? e : unavailable(`tfjs: tf.js is not ready: ${(e as Error)?.message ?? String(e)}`, e);
        }
        aborted();
        try {
          // Dilated heads: one call per residue group with the undilated pattern (docs/design.md, Re-ordering), as cpu-wasm does.
          return await attendByResidue(owned, plan, options.partitionDilation !== false, (r, p) => attendHost(t, r, p, aborted));
        } catch (e) {
          throw typedFailure(e);
        }
      })();
    },
    async dispose() {
      disposed = true;
      cache.clear();
    },
  };
}
