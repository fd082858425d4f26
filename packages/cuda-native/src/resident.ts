// The resident entry point (docs/resident.md): q, k, v, out and lse as CudaTensors in GPU memory, so that chained
// calls (layer after layer, a KV cache kept on the GPU) avoid host round trips. Host tensors may be mixed in
// (e.g. a new query block against a resident cache); they are uploaded for the call only.
import { type AttentionPlan, type BlockMaskCache, type HostTensor, type Layout, type Pattern, SparseAttentionError } from '@sparse/core';
import { planAttentionShapes, shapeOf } from '@sparse/core/backend';
import type { NativeBinding, NativeOperand, NativePlan } from './binding.js';
import { toSparseError } from './errors.js';
import { PRECISION_CODE, PRECISIONS, type Precision } from './options.js';
import { packMasks } from './pack.js';
import { CudaTensor, checkOwnTensor, isCudaTensor, sequenced } from './tensor.js';

export interface ResidentAttentionRequest {
  /** Resident tensors (of the backend's storage precision) or float32 host tensors, mixed as needed. */
  q: CudaTensor | HostTensor;
  k: CudaTensor | HostTensor;
  v: CudaTensor | HostTensor;
  pattern: Pattern | readonly Pattern[];
  scale?: number;
  queryOffset?: number;
  layout?: Layout;
  returnLse?: boolean;
  /** A float32 tensor of out's shape to write into; a new one is made when absent. */
  out?: CudaTensor;
  /** A float32 tensor [B, Hq, Sq] to write lse into (implies returnLse); a new one is made when returnLse and absent. */
  lse?: CudaTensor;
}

export interface ResidentAttentionResult {
  out: CudaTensor;
  lse?: CudaTensor;
}

export interface ResidentOps {
  upload(tensor: HostTensor, options?: { dtype?: Precision }): Promise<CudaTensor>;
  empty(shape: readonly number[], options?: { dtype?: Precision }): Promise<CudaTensor>;
  download(tensor: CudaTensor): Promise<HostTensor>;
  cast(tensor: CudaTensor, dtype: Precision): Promise<CudaTensor>;
  attentionResident(request: ResidentAttentionRequest, options?: { signal?: AbortSignal }): Promise<ResidentAttentionResult>;
  /** Resident tensors of this backend not yet disposed. */
  liveTensors(): number;
  /** Disposes every tensor of the backend (backend.dispose()). */
  releaseAll(): Promise<void>;
}

export interface ResidentContext {
  /** What the tensors record as their maker (the backend object). */
  owner: object;
  precision: Precision;
  device: number;
  cache: BlockMaskCache;
  ready(): Promise<NativeBinding>;
  /** The backend's head-dim limits: a reason, or null. */
  limits(D: number, Dv: number): string | null;
}

const MAX_ELEMENTS = 2 ** 53 / 4;

function checkDtype(dtype: unknown, field: string): Precision {
  if (typeof dtype !== 'string' || !(PRECISIONS as readonly string[]).includes(dtype))
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be one of ${PRECISIONS.join(', ')} (got ${JSON.stringify(dtype)})`, { field });
  return dtype as Precision;
}

function checkShape(shape: unknown, field: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((n) => Number.isInteger(n) && n >= 1))
    throw new SparseAttentionError('INVALID_SHAPE', `${field}: must be an array of positive integer sizes (got ${JSON.stringify(shape)})`, { field });
  const size = shape.reduce((a: number, b: number) => a * b, 1);
  if (size > MAX_ELEMENTS) throw new SparseAttentionError('RESOURCE_LIMIT', `${field}: ${size} values are more than one device tensor can hold`, { field });
  return [...shape];
}

function checkHost(t: unknown, field: string): HostTensor {
  const h = t as HostTensor;
  if (typeof t !== 'object' || t === null || !(h.data instanceof Float32Array))
    throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be a CudaTensor or a host tensor { data: Float32Array, shape }`, { field });
  const shape = checkShape(h.shape, `${field}.shape`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (h.data.length !== size)
    throw new SparseAttentionError('INVALID_SHAPE', `${field}.data: length must be the product of the shape (${size}) (got ${h.data.length})`, {
      field: `${field}.data`,
    });
  return h;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function createResidentOps(ctx: ResidentContext): ResidentOps {
  const owner = ctx.owner;
  const live = new Map<number, WeakRef<CudaTensor>>();
  // The binding every tensor was made with (set by the first allocation): releases go through it directly, so
  // they still work while and after the backend is disposed (ready() refuses then).
  let made: NativeBinding | undefined;
  let closing = false;
  // A tensor dropped without dispose() is released when collected (the addon frees it off the main thread).
  const collected = new FinalizationRegistry<number>((id) => {
    live.delete(id);
    made?.tensorRelease(id).catch(() => undefined);
  });

  async function release(t: CudaTensor): Promise<void> {
    collected.unregister(t);
    live.delete(t.id);
    if (made) await call(() => made!.tensorRelease(t.id));
  }

  async function allocate(shape: readonly number[], dtype: Precision): Promise<CudaTensor> {
    const binding = await ctx.ready();
    if (closing) throw new SparseAttentionError('BACKEND_UNAVAILABLE', 'cuda-native: the backend is being disposed', { field: 'backend' });
    made = binding;
    const size = shape.reduce((a, b) => a * b, 1);
    const id = await call(() => binding.tensorAllocate(ctx.device, PRECISION_CODE[dtype], size));
    const t = new CudaTensor(owner, id, shape, dtype, ctx.device, release);
    live.set(id, new WeakRef(t));
    collected.register(t, id, t);
    if (closing) {
      // The backend began disposing while this allocation was in flight: free it rather than hand it out.
      await t.dispose().catch(() => undefined);
      throw new SparseAttentionError('BACKEND_UNAVAILABLE', 'cuda-native: the backend was disposed', { field: 'backend' });
    }
    return t;
  }

  /** Runs a binding call; synchronous throws and rejections alike become SparseAttentionErrors. */
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toSparseError(e);
    }
  }

  async function upload(tensor: HostTensor, options: { dtype?: Precision } = {}): Promise<CudaTensor> {
    const host = checkHost(tensor, 'tensor');
    const dtype = checkDtype(options.dtype ?? ctx.precision, 'dtype');
    const t = await allocate(host.shape, dtype);
    try {
      const binding = await ctx.ready();
      await sequenced([t], () => call(() => binding.tensorWrite(t.id, host.data, 0)));
    } catch (e) {
      await t.dispose().catch(() => undefined);
      throw e;
    }
    return t;
  }

  return {
    upload,

    async empty(shape: readonly number[], options: { dtype?: Precision } = {}): Promise<CudaTensor> {
      return allocate(checkShape(shape, 'shape'), checkDtype(options.dtype ?? ctx.precision, 'dtype'));
    },

    async download(tensor: CudaTensor): Promise<HostTensor> {
      const t = checkOwnTensor(tensor, owner, 'tensor');
      const data = new Float32Array(t.size);
      await sequenced([t], async () => {
        const binding = await ctx.ready();
        await call(() => binding.tensorRead(t.id, 0, data));
      });
      return { data, shape: [...t.shape] };
    },

    async cast(tensor: CudaTensor, dtype: Precision): Promise<CudaTensor> {
      const src = checkOwnTensor(tensor, owner, 'tensor');
      const to = checkDtype(dtype, 'dtype');
      return sequenced([src], async () => {
        const target = await allocate(src.shape, to);
        try {
          const binding = await ctx.ready();
          await call(() => binding.tensorCast(src.id, target.id));
        } catch (e) {
          await target.dispose().catch(() => undefined);
          throw e;
        }
        return target;
      });
    },

    async attentionResident(request: ResidentAttentionRequest, options: { signal?: AbortSignal } = {}): Promise<ResidentAttentionResult> {
      if (typeof request !== 'object' || request === null)
        throw new SparseAttentionError('INVALID_ARGUMENT', 'request: must be an object with q, k, v and pattern', { field: 'request' });
      const inputs: CudaTensor[] = [];
      const operand = (x: unknown, field: string): { shape: readonly number[]; native: NativeOperand } => {
        if (isCudaTensor(x)) {
          const t = checkOwnTensor(x, owner, field);
          if (t.dtype !== ctx.precision)
            throw new SparseAttentionError(
              'INVALID_ARGUMENT',
              `${field}: the CudaTensor holds ${t.dtype} values, this backend's storage precision is ${ctx.precision} (convert it with cast())`,
              { field },
            );
          inputs.push(t);
          return { shape: t.shape, native: t.id };
        }
        const h = checkHost(x, field);
        return { shape: h.shape, native: h.data };
      };
      const q = operand(request.q, 'q');
      const k = operand(request.k, 'k');
      const v = operand(request.v, 'v');
      const returnLse = request.returnLse === true || request.lse !== undefined;
      const plan: AttentionPlan = planAttentionShapes({
        q: [...q.shape],
        k: [...k.shape],
        v: [...v.shape],
        pattern: request.pattern,
        scale: request.scale,
        queryOffset: request.queryOffset,
        layout: request.layout,
        returnLse,
      });
      const unsupported = ctx.limits(plan.headDim, plan.headDimV);
      if (unsupported) throw new SparseAttentionError('UNSUPPORTED', unsupported, { field: 'q.shape[3]' });
      const outShape = shapeOf(plan.layout, plan.batch, plan.headsQ, plan.seqQ, plan.headDimV);
      const lseShape = [plan.batch, plan.headsQ, plan.seqQ];
      const target = (x: CudaTensor | undefined, field: string, shape: number[]): CudaTensor | undefined => {
        if (x === undefined) return undefined;
        const t = checkOwnTensor(x, owner, field);
        if (t.dtype !== 'float32') throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be a float32 CudaTensor (got ${t.dtype})`, { field });
        if (!sameShape(t.shape, shape))
          throw new SparseAttentionError('INVALID_SHAPE', `${field}.shape: must be [${shape.join(', ')}] (got [${t.shape.join(', ')}])`, {
            field: `${field}.shape`,
          });
        if (inputs.includes(t)) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must not be one of the inputs q, k, v`, { field });
        return t;
      };
      const givenOut = target(request.out, 'out', outShape);
      const givenLse = target(request.lse, 'lse', lseShape);
      if (options.signal?.aborted) throw new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal');

      // Queued on its tensors now, at call time: calls made without awaiting read and write them in call order.
      const work = sequenced([...inputs, ...(givenOut ? [givenOut] : []), ...(givenLse ? [givenLse] : [])], async () => {
        const binding = await ctx.ready();
        const code = PRECISION_CODE[ctx.precision];
        let kernel: NativePlan;
        try {
          kernel = binding.plan(
            code,
            plan.headDim,
            plan.headDimV,
            plan.patterns.some((p) => p.kind === 'topk'),
          );
        } catch (e) {
          throw toSparseError(e);
        }
        const masks = packMasks(plan, kernel, ctx.cache, { precision: code, device: ctx.device });
        const made: CudaTensor[] = [];
        try {
          const out = givenOut ?? made[made.push(await allocate(outShape, 'float32')) - 1]!;
          const lse = returnLse ? (givenLse ?? made[made.push(await allocate(lseShape, 'float32')) - 1]!) : undefined;
          await call(() => binding.attention({ q: q.native, k: k.native, v: v.native, out: out.id, lse: lse ? lse.id : null, ...masks }));
          keepAlive(inputs);
          const result: ResidentAttentionResult = { out };
          if (lse) result.lse = lse;
          return result;
        } catch (e) {
          for (const t of made) await t.dispose().catch(() => undefined);
          throw e;
        }
      });
      if (!options.signal) return work;
      // On abort the call still finishes on the GPU; tensors it made are freed then.
      work.catch(() => undefined);
      return raceAbort(work, options.signal).catch((e: unknown) => {
        if (e instanceof SparseAttentionError && e.code === 'ABORTED')
          void work.then(
            (r) => {
              if (r.out !== givenOut) void r.out.dispose().catch(() => undefined);
              if (r.lse && r.lse !== givenLse) void r.lse.dispose().catch(() => undefined);
            },
            () => undefined,
          );
        throw e;
      });
    },

    liveTensors: () => live.size,

    async releaseAll(): Promise<void> {
      closing = true;
      // Disposing waits for each tensor's queued work, which may allocate more (an attention's out): repeat until none is left.
      const failures: unknown[] = [];
      while (live.size > 0) {
        const tensors = [...live.entries()].map(([id, ref]) => [id, ref.deref()] as const);
        for (const [id, t] of tensors) if (!t) live.delete(id); // collected: the FinalizationRegistry releases it
        await Promise.all(
          tensors.map(([, t]) =>
            t?.dispose().catch((e: unknown) => {
              failures.push(e);
            }),
          ),
        );
      }
      if (failures.length > 0) throw toSparseError(failures[0]);
    },
  };
}

/** Rejects with ABORTED when the signal fires first; the GPU work itself finishes in the background. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SparseAttentionError('ABORTED', 'attention: the call was aborted by its AbortSignal'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Referencing the input tensors after the call keeps them from being collected (and released) while it is queued. */
function keepAlive(_tensors: readonly CudaTensor[]): void {}
