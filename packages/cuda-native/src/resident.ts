// The resident entry point (docs/resident.md): q, k, v, out and lse as CudaTensors in GPU memory, so that chained
// calls (layer after layer, a KV cache kept on the GPU) avoid host round trips. Host tensors may be mixed in
// (e.g. a new query block against a resident cache); they are uploaded for the call only. Every operation goes
// through the kit's gate (kit.call): refused once disposed, errors typed, counted in flight for dispose().
import type { HostTensor, ResidentRequest, ResidentResult } from '@sparse/core';
import { SparseAttentionError } from '@sparse/core';
import { type AttentionPlan, type Kit, planAttentionShapes, shapeOf } from '@sparse/core/backend';
import type { NativeOperand } from './binding.js';
import type { CudaContext } from './device.js';
import { PRECISION_CODE, PRECISIONS, type Precision } from './options.js';
import { hasTopk, packMasks } from './pack.js';
import { raceAbort } from './run.js';
import { CudaTensor, checkOwnTensor, isCudaTensor, queued } from './tensor.js';
import { toSparseError } from './translate.js';

/**
 * What attentionResident takes: core's ResidentRequest over CudaTensors of the backend's precision, where float32
 * host tensors may stand in for any of q, k, v, and float32 tensors `out` ([B, Hq, Sq, Dv] in the layout) and
 * `lse` ([B, Hq, Sq]; implies returnLse) may be given to write into.
 */
export type CudaResidentRequest = ResidentRequest<CudaTensor | HostTensor> & { out?: CudaTensor; lse?: CudaTensor };

export interface ResidentOps {
  /** A float32 host tensor on the GPU, stored as `dtype` (default the backend's precision). */
  upload(tensor: HostTensor, options?: { dtype?: Precision }): Promise<CudaTensor>;
  /** A zeroed tensor. */
  empty(shape: readonly number[], options?: { dtype?: Precision }): Promise<CudaTensor>;
  /** The values as a float32 host tensor. */
  download(tensor: CudaTensor): Promise<HostTensor>;
  /** A new tensor of the values converted on the device (round to nearest even). */
  cast(tensor: CudaTensor, dtype: Precision): Promise<CudaTensor>;
  attentionResident(request: CudaResidentRequest, options?: { signal?: AbortSignal }): Promise<ResidentResult<CudaTensor>>;
  /** Resident tensors of this backend not yet disposed. */
  liveTensors(): number;
}

export interface ResidentSetup {
  name: string;
  /** What the tensors record as their maker (the backend object). */
  owner: object;
  precision: Precision;
  /** The backend's refusal of a plan (check), with the started device's context or null. */
  refuse(plan: AttentionPlan, ctx: CudaContext | null): void;
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

/** The resident operations of a backend, on the kit's gate. */
export function residentOps(kit: Kit<CudaContext>, setup: ResidentSetup): ResidentOps {
  const { owner, precision } = setup;
  // A tensor dropped without dispose() is released when collected (the addon frees it off the main thread).
  const collected = new FinalizationRegistry<{ ctx: CudaContext; id: number }>(({ ctx, id }) => {
    ctx.tensors.delete(id);
    ctx.binding.tensorRelease(id).catch(() => undefined);
  });

  // Checks and starts an operation synchronously; anything thrown becomes the rejection. Disposed comes first.
  const gate = kit.gate;

  const releaser = (ctx: CudaContext) => async (t: CudaTensor) => {
    collected.unregister(t);
    ctx.tensors.delete(t.id);
    try {
      await ctx.binding.tensorRelease(t.id);
    } catch (e) {
      throw toSparseError(e);
    }
  };

  async function allocate(ctx: CudaContext, shape: readonly number[], dtype: Precision): Promise<CudaTensor> {
    const size = shape.reduce((a, b) => a * b, 1);
    const id = await ctx.binding.tensorAllocate(ctx.device, PRECISION_CODE[dtype], size);
    const t = new CudaTensor(owner, id, shape, dtype, ctx.device, releaser(ctx));
    ctx.tensors.set(id, new WeakRef(t));
    collected.register(t, { ctx, id }, t);
    if (ctx.released) {
      // The device was released (lost) while this allocation was in flight: free it rather than hand it out.
      await t.dispose().catch(() => undefined);
      throw new SparseAttentionError('DEVICE_LOST', `${setup.name}: the device was released while this call ran`, { field: 'device' });
    }
    return t;
  }

  return {
    upload(tensor, options = {}) {
      return gate(() => {
        const host = checkHost(tensor, 'tensor');
        const dtype = checkDtype(options?.dtype ?? precision, 'dtype');
        // The addon reads the values on its worker thread: the caller's array is the caller's again now.
        const data = host.data.slice();
        const shape = [...host.shape];
        return kit.call(async (ctx) => {
          const t = await allocate(ctx, shape, dtype);
          try {
            await queued([t], () => ctx.binding.tensorWrite(t.id, data, 0));
          } catch (e) {
            await t.dispose().catch(() => undefined);
            throw e;
          }
          return t;
        });
      });
    },

    empty(shape, options = {}) {
      return gate(() => {
        const s = checkShape(shape, 'shape');
        const dtype = checkDtype(options?.dtype ?? precision, 'dtype');
        return kit.call((ctx) => allocate(ctx, s, dtype));
      });
    },

    download(tensor) {
      return gate(() => {
        const t = checkOwnTensor(tensor, owner, 'tensor');
        const data = new Float32Array(t.size);
        return queued([t], (before) =>
          kit.call(async (ctx) => {
            await before;
            await ctx.binding.tensorRead(t.id, 0, data);
            return { data, shape: [...t.shape] };
          }),
        );
      });
    },

    cast(tensor, dtype) {
      return gate(() => {
        const src = checkOwnTensor(tensor, owner, 'tensor');
        const to = checkDtype(dtype, 'dtype');
        return queued([src], (before) =>
          kit.call(async (ctx) => {
            await before;
            const target = await allocate(ctx, src.shape, to);
            try {
              await ctx.binding.tensorCast(src.id, target.id);
            } catch (e) {
              await target.dispose().catch(() => undefined);
              throw e;
            }
            return target;
          }),
        );
      });
    },

    attentionResident(request, options = {}) {
      return gate(() => {
        const t0 = performance.now();
        if (typeof request !== 'object' || request === null)
          throw new SparseAttentionError('INVALID_ARGUMENT', 'request: must be an object with q, k, v and pattern', { field: 'request' });
        const inputs: CudaTensor[] = [];
        const operand = (x: unknown, field: string): { shape: readonly number[]; native: NativeOperand } => {
          if (isCudaTensor(x)) {
            const t = checkOwnTensor(x, owner, field);
            if (t.dtype !== precision)
              throw new SparseAttentionError(
                'INVALID_ARGUMENT',
                `${field}: the CudaTensor holds ${t.dtype} values, this backend's storage precision is ${precision} (convert it with cast())`,
                { field },
              );
            inputs.push(t);
            return { shape: t.shape, native: t.id };
          }
          // A host operand is read by the addon on its worker thread: copied now.
          const h = checkHost(x, field);
          return { shape: h.shape, native: h.data.slice() };
        };
        const q = operand(request.q, 'q');
        const k = operand(request.k, 'k');
        const v = operand(request.v, 'v');
        const returnLse = request.returnLse === true || request.lse !== undefined;
        const plan = planAttentionShapes({
          q: [...q.shape],
          k: [...k.shape],
          v: [...v.shape],
          pattern: request.pattern,
          scale: request.scale,
          queryOffset: request.queryOffset,
          layout: request.layout,
          returnLse,
        });
        setup.refuse(plan, kit.live());
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
        const { signal } = options ?? {};

        // Queued on its tensors now, at call time: calls made without awaiting read and write them in call order.
        const used = [...inputs, ...(givenOut ? [givenOut] : []), ...(givenLse ? [givenLse] : [])];
        const work = queued(used, (before) =>
          kit.call(async (ctx) => {
            await before;
            setup.refuse(plan, ctx); // the loaded addon's own kernel choice
            const code = PRECISION_CODE[precision];
            const kernel = ctx.binding.plan(code, plan.headDim, plan.headDimV, hasTopk(plan));
            const masks = packMasks(plan, kernel, ctx.cache, { precision: code, device: ctx.device });
            const made: CudaTensor[] = [];
            try {
              const out = givenOut ?? made[made.push(await allocate(ctx, outShape, 'float32')) - 1]!;
              const lse = returnLse ? (givenLse ?? made[made.push(await allocate(ctx, lseShape, 'float32')) - 1]!) : undefined;
              await ctx.binding.attention({ q: q.native, k: k.native, v: v.native, out: out.id, lse: lse ? lse.id : null, ...masks });
              ctx.last = kernel;
              kit.record(ctx, 1, performance.now() - t0);
              keepAlive(inputs);
              const result: ResidentResult<CudaTensor> = { out };
              if (lse) result.lse = lse;
              return result;
            } catch (e) {
              for (const t of made) await t.dispose().catch(() => undefined);
              throw e;
            }
          }, signal),
        );
        if (!signal) return work;
        // On abort the call still finishes on the GPU; tensors it made are freed then.
        work.catch(() => undefined);
        return raceAbort(work, signal).catch((e: unknown) => {
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
      });
    },

    liveTensors: () => kit.live()?.tensors.size ?? 0,
  };
}

/** Referencing the input tensors after the call keeps them from being collected (and released) while it is queued. */
function keepAlive(_tensors: readonly CudaTensor[]): void {}
