import { SparseAttentionError } from '@sparse/core';
import type { Precision } from './options.js';

/**
 * A tensor resident in GPU memory, made by a cuda-native backend (`upload`, `empty`, `cast`, or the output of
 * `attentionResident`). Row-major like a host tensor of the same shape; `dtype` is its storage type. The memory
 * is freed by `dispose()` (or, as a fallback, when the object is garbage-collected).
 */
export class CudaTensor {
  readonly shape: readonly number[];
  readonly dtype: Precision;
  readonly device: number;
  /** Number of values (the product of the shape). */
  readonly size: number;
  /** @internal the backend that made it (tensors are not shared between backends). */
  readonly owner: object;
  /** @internal the addon's id of the allocation. */
  readonly id: number;
  #disposed = false;
  #disposing: Promise<void> | undefined;
  readonly #release: (t: CudaTensor) => Promise<void>;
  /** Settles when the last operation that uses this tensor is done (operations on a tensor run in call order). */
  #last: Promise<unknown> = Promise.resolve();

  /** @internal made by the backend only. */
  constructor(owner: object, id: number, shape: readonly number[], dtype: Precision, device: number, release: (t: CudaTensor) => Promise<void>) {
    this.owner = owner;
    this.#release = release;
    this.id = id;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Frees the device memory once the operations already queued on this tensor are done. Later uses are
   * INVALID_ARGUMENT errors; disposing again returns the same promise.
   */
  dispose(): Promise<void> {
    if (!this.#disposing) {
      this.#disposed = true;
      this.#disposing = this.#last.then(() => this.#release(this));
    }
    return this.#disposing;
  }

  /** @internal the promise of the operations queued on it so far. */
  get settled(): Promise<unknown> {
    return this.#last;
  }

  /** @internal records an operation that uses it. */
  track(work: Promise<unknown>): void {
    this.#last = work.catch(() => undefined);
  }

  toString(): string {
    return `CudaTensor(${this.dtype}[${this.shape.join(', ')}] on cuda:${this.device}${this.#disposed ? ', disposed' : ''})`;
  }
}

export function isCudaTensor(x: unknown): x is CudaTensor {
  return x instanceof CudaTensor;
}

/** Checks that `t` is a live tensor of this backend; the error names `field`. */
export function checkOwnTensor(t: unknown, owner: object, field: string): CudaTensor {
  if (!isCudaTensor(t)) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: must be a CudaTensor made by this backend`, { field });
  if (t.owner !== owner)
    throw new SparseAttentionError(
      'INVALID_ARGUMENT',
      `${field}: the CudaTensor belongs to another cuda-native backend; tensors are not shared between backends`,
      {
        field,
      },
    );
  if (t.disposed) throw new SparseAttentionError('INVALID_ARGUMENT', `${field}: the CudaTensor was disposed`, { field });
  return t;
}

/**
 * Queues an operation on `tensors` now, at call time: `start` gets the promise of every earlier operation on
 * them (to await before touching them), and later operations on them wait for the one it returns.
 */
export function queued<T>(tensors: readonly CudaTensor[], start: (before: Promise<unknown>) => Promise<T>): Promise<T> {
  const run = start(Promise.all(tensors.map((t) => t.settled)));
  for (const t of tensors) t.track(run);
  return run;
}

/**
 * Runs `work` after every earlier operation on `tensors` has settled, and makes later operations on them wait
 * for it: calls made without awaiting still read and write each tensor in call order.
 */
export function sequenced<T>(tensors: readonly CudaTensor[], work: () => Promise<T>): Promise<T> {
  return queued(tensors, (before) => before.then(work));
}
